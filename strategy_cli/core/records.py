"""Instance and Event records as plain dicts with the platform's field names.

Records carry a few engine-private keys starting with `_` (the kind of event, its attempt
history); `public()` strips them, and every output goes through it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from .statuses import TERMINAL_EVENT_STATUSES
from .timecalc import to_rfc3339

EventKind = Literal["main", "leading-up", "on-create", "on-cancel"]
Record = dict[str, Any]


def new_sid() -> str:
    return str(uuid.uuid4())


def iso(instant: datetime) -> str:
    return to_rfc3339(instant)


def public(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_") and v is not None}


def is_terminal(event: Record) -> bool:
    return event["status"] in TERMINAL_EVENT_STATUSES


def new_event(
    *,
    instance: Record,
    strategy: Record,
    task: str,
    date: datetime,
    kind: EventKind,
    cycle: int,
    now: datetime,
    manual: bool = False,
) -> Record:
    stamp = iso(now)
    return {
        "sid": new_sid(),
        "instanceSid": instance["sid"],
        "strategySid": strategy["sid"],
        "status": "ONHOLD" if manual else "PENDING",
        "main": kind == "main",
        "afterCancellation": kind == "on-cancel",
        "task": task,
        "date": iso(date),
        "createdCycle": cycle,
        "attempt": 0,
        "correlationId": new_sid(),
        "execStrategyVersion": strategy.get("version", 1),
        "createdAt": stamp,
        "updatedAt": stamp,
        "_kind": kind,
        "_planned": iso(date),
        "_history": [],
    }


def kind_of(event: Record) -> EventKind:
    kind = event.get("_kind")
    if kind:
        return kind  # type: ignore[no-any-return]
    if event.get("main"):
        return "main"
    return "on-cancel" if event.get("afterCancellation") else "leading-up"
