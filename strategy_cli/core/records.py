"""Instance and Event records as plain dicts with the platform's field names.

Records carry a few engine-private keys starting with `_` (the kind of event, its attempt
history); `public()` strips them, and every output goes through it.
"""

from __future__ import annotations

import random
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from .domain import TERMINAL_EVENT_STATUSES, EventKind, EventStatus
from .timecalc import to_rfc3339

Record = dict[str, Any]


def new_sid() -> str:
    """A random (version 4) UUID as text; random.getrandbits is reseeded in forked children
    and is several times faster than uuid.uuid4 on the simulator's hot path."""
    n = (random.getrandbits(128) & _V4_KEEP) | _V4_SET
    h = n.to_bytes(16, "big").hex()  # faster than f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# The version (4) and variant (10xx) bits: cleared by the mask, then set.
_V4_KEEP = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def iso(instant: datetime) -> str:
    # An operation stamps its `now` several times, between the dates of the events it creates:
    # recent objects are remembered by identity, the cheapest lookup. Each entry keeps its object
    # alive, so no other object can take its id meanwhile.
    hit = _recent.get(id(instant))
    if hit is not None and hit[0] is instant:
        return hit[1]
    # Keyed by the offset too: equal instants in different zones compare equal.
    text = _iso(instant, instant.utcoffset())
    _remember(instant, text)
    return text


def instant_of(text: str) -> datetime:
    """`datetime.fromisoformat(text)`, for the dates the engine re-reads several times per event.

    The same text gives the same (immutable) object, and instants with the same UTC offset share
    one tzinfo object: comparing or subtracting them then skips the offset lookups.
    """
    instant = _instants.get(text)
    if instant is None:
        # Strict on purpose, not timecalc.parse_rfc3339: records hold what `iso` wrote, and a
        # hand-edited lower-case date must stay an error here rather than be read leniently.
        instant = datetime.fromisoformat(text)
        zone = instant.tzinfo
        if zone is not None:
            shared = _zones.setdefault(zone, zone)  # fixed offsets: equal when the offset is
            if shared is not zone:
                instant = instant.replace(tzinfo=shared)
        if len(_instants) >= _INSTANTS_MAX:
            _instants.clear()
        _instants[text] = instant
    return instant


def parse_iso(text: str) -> datetime:
    """The instant of a text that `iso` produced: `iso` of the result gives `text` back without
    formatting it again (a simulation's clock reads the date of every event it runs)."""
    instant = instant_of(text)
    _remember(instant, text)
    return instant


def _remember(instant: datetime, text: str) -> None:
    if len(_recent) >= _RECENT_MAX:
        _recent.clear()
    _recent[id(instant)] = (instant, text)


_recent: dict[int, tuple[datetime, str]] = {}
_RECENT_MAX = 4096
_instants: dict[str, datetime] = {}
_INSTANTS_MAX = 4096
_zones: dict[tzinfo, tzinfo] = {}


@lru_cache(maxsize=4096)
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
    stamp, when = iso(now), iso(date)
    return {
        "sid": new_sid(),
        "instanceSid": instance["sid"],
        "strategySid": strategy["sid"],
        "status": EventStatus.ONHOLD if manual else EventStatus.PENDING,
        "main": kind == EventKind.MAIN,
        "afterCancellation": kind == EventKind.ON_CANCEL,
        "task": task,
        "date": when,
        "createdCycle": cycle,
        "attempt": 0,
        "correlationId": new_sid(),
        "execStrategyVersion": strategy.get("version", 1),
        "createdAt": stamp,
        "updatedAt": stamp,
        "_kind": kind,
        "_planned": when,
        "_history": [],
    }


def kind_of(event: Record) -> EventKind:
    kind = event.get("_kind")
    if kind:
        return kind  # type: ignore[no-any-return]  # a str as stored: equal to its member
    if event.get("main"):
        return EventKind.MAIN
    return EventKind.ON_CANCEL if event.get("afterCancellation") else EventKind.LEADING_UP
