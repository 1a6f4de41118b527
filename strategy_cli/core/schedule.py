"""Cycles (SEMANTICS.md section 3): which calendar runs a cycle, its date, and its events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .callbacks import Callbacks
from .models import Calendar, Delay, Settings
from .timecalc import NoteKind, TimeError, WallTime, parse_instant, resolve, shift, wall_of


@dataclass(frozen=True, slots=True)
class Note:
    kind: str  # dst-gap, dst-fold, month-clamp, leading-up-skipped
    message: str
    eventSid: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "eventSid": self.eventSid}


@dataclass(slots=True)
class Moment:
    """A computed date: the instant, its intended wall time, and what resolution adjusted."""

    instant: datetime
    intended: WallTime
    adjustments: tuple[NoteKind, ...] = ()


@dataclass(slots=True)
class PlannedEvent:
    task: str
    moment: Moment
    kind: str  # main | leading-up
    skipped: bool = False  # a leading-up date before the instance's start


@dataclass(slots=True)
class Cycle:
    number: int
    calendar: Calendar
    moment: Moment
    events: list[PlannedEvent] = field(default_factory=list)


def moment(intended: WallTime, zone: ZoneInfo) -> Moment:
    instant, notes = resolve(intended, zone)
    return Moment(instant, intended, notes)


def shifted(
    base: WallTime, delay: Delay | None, zone: ZoneInfo, attrs: Mapping[str, Any], sign: int = 1
) -> Moment:
    return moment(base if delay is None else shift(base, delay, zone, attrs, sign), zone)


def calendar_for(
    settings: Settings, n: int, callbacks: Callbacks, ctx: Mapping[str, Any]
) -> Calendar | None:
    cals = settings.schedule.calendars
    for cal in cals:
        if cal.runOnCycle == n:
            return cal
    for cal in cals:
        if cal.runOnCycleCallback and callbacks.call(
            cal.runOnCycleCallback, "runOnCycleCallback", {**ctx, "cycle": n}
        ):
            return cal
    for cal in cals:
        if cal.runOnCycle is None and not cal.runOnCycleCallback:
            return cal
    return None


def first_cycle_base(
    settings: Settings, start: datetime, zone: ZoneInfo, attrs: Mapping[str, Any]
) -> WallTime:
    init = settings.schedule.initialDelay
    base = wall_of(start, zone)
    return base if init is None else shift(base, init, zone, attrs)


def cycle_date(
    cal: Calendar,
    base: WallTime,
    zone: ZoneInfo,
    attrs: Mapping[str, Any],
    callbacks: Callbacks,
    ctx: Mapping[str, Any],
) -> Moment:
    """The date of a cycle run by `cal`, from the previous cycle's intended wall time."""
    if cal.nextCycleDateCallback:
        value = callbacks.call(cal.nextCycleDateCallback, "nextCycleDateCallback", ctx)
        if value is not None:
            return _moment_from_value(value, zone)
    return shifted(base, cal.scheduleAfter, zone, attrs)


def _moment_from_value(value: Any, zone: ZoneInfo) -> Moment:
    if isinstance(value, datetime):
        instant = value if value.tzinfo else parse_instant(value.isoformat(), zone)
    elif isinstance(value, str):
        instant = parse_instant(value, zone)
    else:
        raise TimeError(f"nextCycleDateCallback returned {value!r}, not a date")
    instant = instant.astimezone(zone)
    return Moment(instant, wall_of(instant, zone))


def plan_cycle(
    n: int, cal: Calendar, when: Moment, zone: ZoneInfo, attrs: Mapping[str, Any], start: datetime
) -> Cycle:
    """The leading-up events of cycle n in declaration order, then its main event (so a
    leading-up at the main's own instant, scheduleBefore 0, still comes before it)."""
    cycle = Cycle(n, cal, when)
    for lead in cal.leadingUpTasks or []:
        if not lead.task:
            continue
        at = shifted(when.intended, lead.scheduleBefore, zone, attrs, sign=-1)
        cycle.events.append(PlannedEvent(lead.task, at, "leading-up", skipped=at.instant < start))
    if cal.task:
        cycle.events.append(PlannedEvent(cal.task, when, "main"))
    return cycle
