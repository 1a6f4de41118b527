"""Simulating a portfolio: one instance per line of a JSON-lines file, streamed into the store."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.attributes import attribute_problems
from ..core.models import Settings
from ..core.scenario import Scenario
from ..core.simulate import Simulation
from ..core.timecalc import TimeError, get_zone, parse_instant
from ..errors import StrategyError, UsageError

if TYPE_CHECKING:
    from .store import Store

BATCH = 250  # instances per executemany: bounded memory, few round trips


@dataclass
class PortfolioResult:
    instances: int = 0
    events: int = 0
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    forecast: bool = False


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StrategyError(f"{path}:{n}:{exc.colno}: not valid JSON: {exc.msg}") from None
            if not isinstance(item, dict):
                raise StrategyError(
                    f"{path}:{n}:1: each line must be an object {{attributes, start}}"
                )
            yield n, item


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def run_portfolio(
    store: Store,
    record: dict[str, Any],
    settings: Settings,
    path: Path,
    cycles: int,
    scenario: Scenario | None,
    forecast: bool,
    on_progress: Callable[[int], None] | None = None,
) -> PortfolioResult:
    zone = get_zone(settings.config.timezone if settings.config else None)
    result = PortfolioResult(forecast=forecast)
    batch: list[Any] = []
    with store.transaction():  # all or nothing: a bad line leaves the store as it was
        for n, item in _lines(path):
            attrs, start = _item(path, n, item, settings, zone)
            sim = Simulation(record, settings, scenario or Scenario(), cycles)
            sim.executor.describe_requests = False
            if forecast:
                sim.executor.calls = result.calls
            box = sim.run(attrs, start)
            batch.append(box)
            result.instances += 1
            result.events += len(box.events)
            if len(batch) >= BATCH:
                _flush(store, batch, on_progress)
        _flush(store, batch, on_progress)
    return result


def _flush(store: Store, batch: list[Any], on_progress: Callable[[int], None] | None) -> None:
    if not batch:
        return
    store.bulk_insert(
        ((b.instance, b.state) for b in batch),
        (e for b in batch for e in b.events.values()),
        simulated=True,
    )
    if on_progress:
        on_progress(len(batch))
    batch.clear()


def _item(
    path: Path, n: int, item: dict[str, Any], settings: Settings, zone: Any
) -> tuple[dict[str, Any], Any]:
    attrs = item.get("attributes", {})
    problems = attribute_problems(settings, attrs)
    if problems:
        raise StrategyError(
            f"{path}:{n}: attributes do not match instanceValidation: {problems[0]}"
        )
    raw = item.get("start")
    if not isinstance(raw, str):
        raise StrategyError(f"{path}:{n}: `start` must be an ISO-8601 string")
    try:
        return attrs, parse_instant(raw, zone)
    except TimeError as exc:
        raise StrategyError(f"{path}:{n}: start: {exc}") from None
