"""Scenario files for simulation, with errors reported at their line and column."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..core.scenario import Scenario
from ..errors import StrategyError, UsageError
from .yamlsource import load_path


def load_scenario(path: Path) -> Scenario:
    if not path.is_file():
        raise UsageError(f"{path}: no such scenario file")
    doc = load_path(path)
    if doc.findings:
        f = doc.findings[0]
        raise StrategyError(f"{f.file}:{f.line}:{f.column}: {f.message}", hint=f.hint)
    try:
        return Scenario.model_validate(doc.data or {})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        line, col = doc.locate(
            _doc_path(doc.data, loc), "key" if err["type"] == "extra_forbidden" else "value"
        )
        where = ".".join(str(p) for p in loc) or "scenario"
        raise StrategyError(
            f"{path}:{line}:{col}: {where}: {err['msg']}",
            hint="see `strategy simulate --help` for the scenario format",
        ) from None


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
