"""Cycles (docs/semantics.md section 3): which calendar runs a cycle, its date, and its events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .callbacks import Callbacks
from .domain import EventKind, NoteKind
from .models import Calendar, Delay, Settings
from .timecalc import TimeError, WallTime, parse_instant, resolve, shift, wall_of


@dataclass(frozen=True, slots=True)
class Note:
    kind: NoteKind
    message: str
    eventSid: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "eventSid": self.eventSid}


class Moment(NamedTuple):
    """A computed date: the instant, its intended wall time, and what resolution adjusted.

    Immutable: `shifted` hands the same one to every instance that computes the same date.
    """

    instant: datetime
    intended: WallTime
    adjustments: tuple[NoteKind, ...] = ()


class PlannedEvent(NamedTuple):
    """Immutable: a calendar's leading-up events are planned once per date (`_leading_ups`)."""

    task: str
    moment: Moment
    kind: EventKind  # one of SCHEDULED_KINDS
    skipped: bool = False  # a leading-up date before the instance's start
    offset: str = ""  # the offset from the main event as the strategy wrote it ("-24h", "-1d")


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
    if delay is None:
        return moment(base, zone)
    if getattr(delay, "from_", None) is not None:  # counts from an attribute: per instance
        return moment(shift(base, delay, zone, attrs, sign), zone)
    # Otherwise a pure function of its arguments, and a portfolio's instances compute the same
    # few cycle dates over and over: remembered, by the delay's identity (the entry keeps the
    # delay alive, so no other object can take its id meanwhile).
    key = (base, id(delay), sign, zone)
    hit = _shifted.get(key)
    if hit is not None and hit[0] is delay:
        return hit[1]
    at = moment(shift(base, delay, zone, attrs, sign), zone)
    if len(_shifted) >= _SHIFTED_MAX:
        _shifted.clear()
    _shifted[key] = (delay, at)
    return at


_shifted: dict[tuple[WallTime, int, int, ZoneInfo], tuple[Any, Moment]] = {}
_SHIFTED_MAX = 8192


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
    settings: Settings,
    start: datetime,
    zone: ZoneInfo,
    attrs: Mapping[str, Any],
    intended: WallTime | None = None,
) -> WallTime:
    init = settings.schedule.initialDelay
    base = wall_of(start, zone) if intended is None else intended
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
    events = cycle.events
    for planned in _leading_ups(cal, when.intended, zone, attrs):
        if planned.moment.instant < start:
            planned = planned._replace(skipped=True)
        events.append(planned)
    if cal.task:
        events.append(PlannedEvent(cal.task, when, EventKind.MAIN))
    return cycle


def _leading_ups(
    cal: Calendar, intended: WallTime, zone: ZoneInfo, attrs: Mapping[str, Any]
) -> tuple[PlannedEvent, ...]:
    """The leading-up events of `cal`'s cycle at `intended`, none marked skipped yet.

    The instances of a portfolio plan the same few cycle dates over and over: remembered by the
    calendar's identity (kept alive by the entry), unless a delay counts from an attribute.
    """
    key = (id(cal), intended, zone)
    hit = _planned.get(key)
    if hit is not None and hit[0] is cal:
        return hit[1]
    leads = [lead for lead in cal.leadingUpTasks or [] if lead.task]
    planned = tuple(
        PlannedEvent(
            str(lead.task),
            shifted(intended, lead.scheduleBefore, zone, attrs, sign=-1),
            EventKind.LEADING_UP,
            offset=written_offset(lead.scheduleBefore, sign=-1),
        )
        for lead in leads
    )
    if all(lead.scheduleBefore is None or lead.scheduleBefore.from_ is None for lead in leads):
        if len(_planned) >= _PLANNED_MAX:
            _planned.clear()
        _planned[key] = (cal, planned)
    return planned


UNIT_MARK = {"years": "y", "months": "mo", "days": "d", "hours": "h", "minutes": "m"}


def written_offset(delay: Delay | None, sign: int) -> str:
    """A delay as the strategy wrote it, signed ("-24h" stays hours, "-1d" stays a day even
    across a DST change); "" when it is not a plain offset from the cycle's date (counted from
    an attribute, or moved by resetTo), which the reader then works out from the dates."""
    if delay is None:
        return "0d"
    if delay.from_ is not None or delay.resetTo is not None:
        return ""
    if delay.amount == 0:
        return f"0{UNIT_MARK[delay.unit]}"
    return f"{'-' if sign < 0 else '+'}{delay.amount}{UNIT_MARK[delay.unit]}"


_planned: dict[tuple[int, WallTime, ZoneInfo], tuple[Calendar, tuple[PlannedEvent, ...]]] = {}
_PLANNED_MAX = 4096
