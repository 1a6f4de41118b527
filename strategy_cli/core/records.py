"""Instance and Event records as plain dicts with the platform's field names.

Records carry a few engine-private keys starting with `_` (the kind of event, its attempt
history); `public()` strips them, and every output goes through it.
"""

from __future__ import annotations

import random
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from .statuses import TERMINAL_EVENT_STATUSES
from .timecalc import to_rfc3339

EventKind = Literal["main", "leading-up", "on-create", "on-cancel"]
Record = dict[str, Any]


def new_sid() -> str:
    """A random (version 4) UUID as text; random.getrandbits is reseeded in forked children
    and is several times faster than uuid.uuid4 on the simulator's hot path."""
    n = random.getrandbits(128)
    n = (n & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso(instant: datetime) -> str:
    # One operation stamps the same `now` several times: the same object gives the same text.
    if instant is _last[0]:
        return _last[1]
    # Keyed by the offset too: equal instants in different zones compare equal.
    text = _iso(instant, instant.utcoffset())
    _last[0], _last[1] = instant, text
    return text


_last: list[Any] = [None, ""]


@lru_cache(maxsize=512)
def _iso(instant: datetime, offset: object) -> str:
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
