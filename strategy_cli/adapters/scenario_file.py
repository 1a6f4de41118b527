"""Scenario files for simulation, with errors reported at their line and column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..core.callbacks import CALLBACK_KINDS
from ..core.document import Document
from ..core.models import Settings
from ..core.scenario import Scenario
from ..errors import StrategyError, UsageError
from .yamlsource import load_path

CALLBACK_KEYS = frozenset(CALLBACK_KINDS)


def load_scenario(path: Path, settings: Settings | None = None) -> Scenario:
    """A scenario file; with `settings`, every task.step and callback it names must exist there
    (a typo would otherwise be ignored silently and simulate something else)."""
    doc = _read(path)
    scenario = _load(path, doc)
    if settings is not None:
        _check_names(path, doc, scenario, settings)
    return scenario


def _read(path: Path) -> Document:
    if not path.is_file():
        raise UsageError(f"{path}: no such scenario file")
    try:
        return load_path(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _load(path: Path, doc: Document) -> Scenario:
    if doc.findings:
        f = doc.findings[0]
        raise StrategyError(f"{f.file}:{f.line}:{f.column}: {f.message}", hint=f.hint)
    try:
        return Scenario.model_validate(doc.data or {})
    except ValidationError as exc:
        # A union (an outcome, or a list of them) reports every member's error: the one that
        # reaches deepest into the file is the one that points at the offending value.
        errors = exc.errors(include_url=False)
        err = max(errors, key=lambda e: len(_doc_path(doc.data, tuple(e["loc"]))))
        loc = _doc_path(doc.data, tuple(err["loc"]))
        line, col = doc.locate(loc, "key" if err["type"] == "extra_forbidden" else "value")
        where = ".".join(str(p) for p in loc) or "scenario"
        raise StrategyError(
            f"{path}:{line}:{col}: {where}: {err['msg']}",
            hint="see `strategy simulate --help` for the scenario format",
        ) from None


def _check_names(path: Path, doc: Document, scenario: Scenario, settings: Settings) -> None:
    steps = {f"{t.key}.{s.key}" for t in settings.tasks for s in t.steps}
    for section in ("outcomes", "resume"):
        for key in getattr(scenario, section):
            if key not in steps:
                line, col = doc.locate((section, key), "key")
                raise StrategyError(
                    f"{path}:{line}:{col}: {section}.{key}: the strategy has no step '{key}'",
                    hint=_did_you_mean(key, steps, "keys are task.step"),
                )
    names = set(_callback_names(settings.model_dump(by_alias=True)))
    for name in scenario.callbacks:
        if name not in names:
            line, col = doc.locate(("callbacks", name), "key")
            known = ", ".join(sorted(names)) or "none"
            raise StrategyError(
                f"{path}:{line}:{col}: callbacks.{name}: the strategy names no such callback",
                hint=_did_you_mean(name, names, f"callbacks it names: {known}"),
            )


def _did_you_mean(word: str, choices: set[str], otherwise: str) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else otherwise


def _callback_names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CALLBACK_KEYS and isinstance(item, str):
                yield item
            else:
                yield from _callback_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _callback_names(item)


def _doc_path(data: object, loc: tuple[object, ...]) -> tuple[str | int, ...]:
    """Pydantic adds union member names to locations; keep only the parts present in the data."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)  # type: ignore[arg-type]
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            out.append(part)
            cur = cur[part]
    return tuple(out)
