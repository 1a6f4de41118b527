"""What a stored record must hold before any command uses it.

The store keeps each record as JSON text that anyone can edit with `sqlite3`. A record read back
is checked here, field by field, for what the commands rely on without looking (a sid, a status
they know, a cycle that is a number, dates that are instants), so a hand-edited or `null` record
is reported as such, naming the field, instead of failing somewhere far from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .domain import EventStatus, InstanceStatus

Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _instant(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _one_of(values: tuple[str, ...]) -> Check:
    return lambda value: value in values


def _optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _is(kind: type) -> Check:
    return lambda value: isinstance(value, kind)


# Required fields first (absent is a problem), then optional ones (absent or null is fine).
_FIELDS: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "strategies": (
        {"sid": _text, "name": _text, "version": _whole, "settings": _is(dict)},
        {"secret": _optional(_text)},
    ),
    "instances": (
        {
            "sid": _text,
            "strategyId": _text,
            "status": _one_of(tuple(InstanceStatus)),
            "cycle": _whole,
            "startDate": _instant,
            "executionDate": _instant,
        },
        {
            "endDate": _optional(_instant),
            "attributes": _optional(_is(dict)),
            "nextEvent": _optional(_is(dict)),
        },
    ),
    "events": (
        {
            "sid": _text,
            "instanceSid": _text,
            "status": _one_of(tuple(EventStatus)),
            "task": _text,
            "date": _instant,
        },
        {
            "createdCycle": _optional(_whole),
            "attempt": _optional(_whole),
            "data": _optional(_is(dict)),
            "taskStatus": _optional(_is(dict)),
            "_seq": _optional(_whole),
            "_history": _optional(_is(list)),
        },
    ),
    # An instance's engine state (its own column).
    "state": ({}, {"intended": _optional(_is(list)), "notes": _optional(_is(list))}),
}


def record_problem(table: str, record: Any) -> str | None:
    """Why `record` (parsed JSON from `table`) cannot be used, or None when it can."""
    if not isinstance(record, dict):
        return f"the record is {type(record).__name__ if record is not None else 'null'}, not an object"
    required, optional = _FIELDS[table]
    for key, check in required.items():
        if key not in record:
            return f"no '{key}'"
        if not check(record[key]):
            return f"'{key}' is {_shown(record[key])}"
    for key, check in optional.items():
        if key in record and not check(record[key]):
            return f"'{key}' is {_shown(record[key])}"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
