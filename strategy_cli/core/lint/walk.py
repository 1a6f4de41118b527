"""Tolerant accessors over raw strategy data: rules must run even when the schema check fails."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from ..findings import DocPath


def items(data: Any, path: DocPath) -> Iterator[tuple[DocPath, dict[str, Any]]]:
    """(path, item) for each mapping in the list at `path`; anything else is skipped."""
    from ..document import get_in

    seq = get_in(data, path)
    if not isinstance(seq, list):
        return
    for i, item in enumerate(seq):
        if isinstance(item, dict):
            yield (*path, i), item


def whole(value: Any) -> int | None:
    """An integer field's value as the models read it (`2.0` is 2), or None when it is none."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def keyed(data: Any, path: DocPath) -> dict[str, tuple[DocPath, dict[str, Any]]]:
    """Items of a list by their `key`, the first occurrence winning."""
    out: dict[str, tuple[DocPath, dict[str, Any]]] = {}
    for p, item in items(data, path):
        key = text(item.get("key"))
        if key is not None and key not in out:
            out[key] = (p, item)
    return out


def did_you_mean(name: str, candidates: object) -> str | None:
    options = [c for c in candidates if isinstance(c, str)]  # type: ignore[attr-defined]
    match = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def known(candidates: object, limit: int = 8) -> str:
    names = sorted(c for c in candidates if isinstance(c, str))  # type: ignore[attr-defined]
    if not names:
        return "none are defined"
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return "known: " + ", ".join(names[:limit]) + more


def delays(data: Any) -> Iterator[tuple[DocPath, dict[str, Any], str]]:
    """Every Delay of a strategy, with its role: initial, after, before, delay-by, retry."""
    s = ("settings",)
    init = _mapping_at(data, (*s, "schedule", "initialDelay"))
    if init is not None:
        yield (*s, "schedule", "initialDelay"), init, "initial"
    for cpath, cal in items(data, (*s, "schedule", "calendars")):
        if isinstance(cal.get("scheduleAfter"), dict):
            yield (*cpath, "scheduleAfter"), cal["scheduleAfter"], "after"
        for lpath, lead in items(data, (*cpath, "leadingUpTasks")):
            if isinstance(lead.get("scheduleBefore"), dict):
                yield (*lpath, "scheduleBefore"), lead["scheduleBefore"], "before"
    for group in ("onCreateTasks", "onCancelTasks"):
        for ipath, item in items(data, (*s, group)):
            if isinstance(item.get("delayBy"), dict):
                yield (*ipath, "delayBy"), item["delayBy"], "delay-by"
    for rpath, retry in retry_configs(data):
        if isinstance(retry.get("retryAfter"), dict):
            yield (*rpath, "retryAfter"), retry["retryAfter"], "retry"


def retry_configs(data: Any) -> Iterator[tuple[DocPath, dict[str, Any]]]:
    for tpath, task in items(data, ("settings", "tasks")):
        if isinstance(task.get("retryConfig"), dict):
            yield (*tpath, "retryConfig"), task["retryConfig"]
        for spath, step in items(data, (*tpath, "steps")):
            if isinstance(step.get("retryConfig"), dict):
                yield (*spath, "retryConfig"), step["retryConfig"]


def _mapping_at(data: Any, path: DocPath) -> dict[str, Any] | None:
    from ..document import get_in

    value = get_in(data, path)
    return value if isinstance(value, dict) else None
