"""Calendar and clock arithmetic for delays (docs/semantics.md section 2, "Time").

Pure functions, no I/O. Arithmetic runs on an *intended wall time* (:class:`WallTime`): the local
date and time a computation aimed at, kept before month clamping and DST resolution so repeated
steps never drift. :func:`resolve` turns it into a real instant and says what had to be adjusted.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain import NoteKind

__all__ = [
    "TimeError",
    "WallTime",
    "delay_minutes",
    "get_zone",
    "parse_base_attribute",
    "parse_instant",
    "resolve",
    "shift",
    "to_rfc3339",
    "wall_of",
]


_MINUTES_PER_UNIT: dict[str, int] = {
    "years": 365 * 1440,
    "months": 30 * 1440,
    "days": 1440,
    "hours": 60,
    "minutes": 1,
}


class TimeError(ValueError):
    """A time value that cannot be used (bad `from` attribute, unknown zone, out of range)."""


class TimeRangeError(TimeError):
    """Arithmetic that would leave the calendar (before year 1 or after year 9999).

    Its own class so callers can tell "this schedule runs off the calendar" (a finding about the
    input's dates) from a malformed time value.
    """


class WallTime(NamedTuple):
    """Intended wall time: local date/time the arithmetic aimed at. day may exceed the month's
    length (e.g. Feb 31); the time may fall inside a DST gap.

    Immutable and hashable; a named tuple rather than a frozen dataclass because a simulation
    builds several per event, and a tuple is built (and hashed, see `resolve`) much faster.

    ``fold`` picks the later of two instants sharing an ambiguous wall time. It is 1 only when an
    elapsed-time step (hours/minutes) landed on the second occurrence: without it, ``+1 hour``
    from 01:30 EDT would give 01:30 EST, which resolves back to 01:30 EDT and loops forever.
    Calendar steps and ``resetTo`` always aim at fold 0 (the spec's "earlier instant").
    ``exact`` marks the first occurrence of an ambiguous wall time read off a real instant (an
    elapsed step, a start): it is the earlier instant by fact, not by choice, so it is no
    adjustment and gets no `dst-fold` note.
    """

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    microsecond: int = 0
    fold: int = 0
    exact: bool = False


# --- zones and instants -----------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise TimeError(f"unknown time zone {name!r} (expected an IANA name)") from exc


def get_zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; ``None`` means UTC."""
    if name is None:
        return _load_zone("UTC")
    if not isinstance(name, str) or not name.strip():
        raise TimeError(f"unknown time zone {name!r} (expected an IANA name)")
    return _load_zone(name.strip())


def _require_aware(instant: datetime, what: str) -> None:
    # A naive datetime would silently be read as the host's local time by astimezone().
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise TimeError(f"{what} needs a timezone-aware datetime, got {instant!r}")


def wall_of(instant: datetime, zone: ZoneInfo) -> WallTime:
    """The wall time of an aware ``instant`` in ``zone``."""
    _require_aware(instant, "wall_of")
    try:
        loc = instant.astimezone(zone)
    except OverflowError as exc:  # 9999-12-31T23:00Z is in year 10000 east of Greenwich
        raise TimeRangeError(f"{instant.isoformat()} is out of range in {zone.key}") from exc
    # Only inside a repeated hour do the two folds differ: elsewhere `exact` stays False, so
    # wall times compare equal however they were computed.
    exact = not loc.fold and loc.replace(fold=1).utcoffset() != loc.utcoffset()
    return WallTime(
        loc.year,
        loc.month,
        loc.day,
        loc.hour,
        loc.minute,
        loc.second,
        loc.microsecond,
        loc.fold,
        exact,
    )


def _month_len(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _local(wt: WallTime, day: int, zone: ZoneInfo) -> datetime:
    try:
        return datetime(wt.year, wt.month, day, wt.hour, wt.minute, wt.second, wt.microsecond, zone)
    except (ValueError, OverflowError) as exc:
        raise TimeRangeError(f"wall time {wt} is out of range: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def resolve(wt: WallTime, zone: ZoneInfo) -> tuple[datetime, tuple[NoteKind, ...]]:
    """The instant an intended wall time stands for, and the adjustments made to reach it.

    Cached (the result is immutable): the instances of a portfolio share most of their dates,
    and the same object for the same date also saves `records.iso` formatting it again.
    """
    notes: tuple[NoteKind, ...] = ()
    day = wt.day
    if day > 28:  # no month is shorter, so the common case skips monthrange
        last = _month_len(wt.year, wt.month) if 1 <= wt.month <= 12 else day
        if day > last:
            day, notes = last, (NoteKind.MONTH_CLAMP,)
    early = _local(wt, day, zone)
    off0 = early.utcoffset()
    late = early.replace(fold=1)
    off1 = late.utcoffset()
    # PEP 495: fold=0 uses the offset in force before a transition, fold=1 the one after. A
    # forward jump (gap) therefore has off0 < off1, a backward jump (ambiguity) off0 > off1.
    if off0 == off1:
        return early, notes
    if off0 < off1:  # type: ignore[operator]
        # Reading the gap time with the old offset lands past the transition, i.e. the wall
        # time plus the gap's length (30 min on Lord Howe, not always an hour).
        moved = early.astimezone(UTC).astimezone(zone)
        return moved, (*notes, NoteKind.DST_GAP)
    if wt.fold:
        return late, notes
    if wt.exact:
        return early, notes
    return early, (*notes, NoteKind.DST_FOLD)


def to_rfc3339(instant: datetime) -> str:
    """``instant`` as RFC 3339 with its offset; seconds precision unless it has microseconds."""
    _require_aware(instant, "to_rfc3339")
    if instant.microsecond:
        return instant.isoformat()
    return instant.isoformat(timespec="seconds")


def parse_rfc3339(text: str) -> datetime:
    """The package's one reader of RFC 3339 / ISO 8601 text (naive when it has no offset).

    Raises ValueError. The text as it is first: the common case, and the store's hot path.
    """
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        # RFC 3339 allows lower-case 't'/'z' and fromisoformat only knows the upper-case forms.
        return datetime.fromisoformat(text.strip().upper())


def _fromiso(text: str) -> datetime | None:
    # Normalised before reading, as this module always did: a text that only reads as written
    # (an odd separator character whose upper case is two letters) stays refused here.
    try:
        return parse_rfc3339(text.strip().upper())
    except ValueError:
        return None


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 / RFC 3339 text as an aware datetime in ``zone``; naive means local wall time."""
    return parse_wall_instant(text, zone)[0]


def parse_wall_instant(text: str, zone: ZoneInfo) -> tuple[datetime, WallTime]:
    """The instant a text names and its intended wall time. Written without an offset, the text
    is a wall time in ``zone`` and is itself the intended wall time, even inside a DST gap (a
    start at 02:30 on a spring-forward day begins at 03:30; its later cycles keep 02:30)."""
    parsed = _fromiso(text) if isinstance(text, str) else None
    if parsed is None:
        raise TimeError(f"not an RFC 3339 timestamp: {text!r}")
    if parsed.tzinfo is not None:
        instant = parsed.astimezone(zone)
        return instant, wall_of(instant, zone)
    wt = _wall_of_naive(parsed)
    return resolve(wt, zone)[0], wt


def _wall_of_naive(value: datetime) -> WallTime:
    return WallTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def parse_base_attribute(value: Any, zone: ZoneInfo, name: str) -> WallTime:
    """The wall time in ``zone`` of a `from` attribute value.

    Accepts an RFC 3339 timestamp, a ``YYYY-MM-DD`` date (00:00 local), or datetime/date objects.
    A timestamp without an offset is read as local wall time in ``zone``.
    """
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        return WallTime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = _fromiso(value)
    else:
        parsed = None
    if parsed is None:
        raise TimeError(
            f"attribute '{name}' is not an RFC 3339 timestamp or YYYY-MM-DD date: {value!r}"
        )
    if parsed.tzinfo is None:
        return _wall_of_naive(parsed)
    return wall_of(parsed, zone)


# --- delays -----------------------------------------------------------------------------------


def delay_minutes(delay: Any) -> int:
    """Rough length of a delay (model or raw mapping) in minutes: a year is 365 days, a month 30;
    enough to compare lengths, never to compute dates."""
    return _MINUTES_PER_UNIT[_field(delay, "unit")] * int(_field(delay, "amount"))


def _step_years(base: WallTime, n: int, zone: ZoneInfo) -> WallTime:
    return WallTime(
        base.year + n, base.month, base.day, base.hour, base.minute, base.second, base.microsecond
    )


def _step_months(base: WallTime, n: int, zone: ZoneInfo) -> WallTime:
    year, month0 = divmod(base.year * 12 + base.month - 1 + n, 12)
    return WallTime(
        year, month0 + 1, base.day, base.hour, base.minute, base.second, base.microsecond
    )


def _add_days(base: WallTime, n: int) -> WallTime:
    # The intended day is clamped first so Feb 31 + 1 day is Mar 1, not Mar 3 (no month is
    # shorter than 28 days, so the common case skips monthrange).
    day = base.day if base.day <= 28 else min(base.day, _month_len(base.year, base.month))
    try:
        moved = date.fromordinal(date(base.year, base.month, day).toordinal() + n)
    except (ValueError, OverflowError) as exc:
        raise TimeRangeError(f"{base} + {n} days is out of range") from exc
    return WallTime(
        moved.year, moved.month, moved.day, base.hour, base.minute, base.second, base.microsecond
    )


def _step_days(base: WallTime, n: int, zone: ZoneInfo) -> WallTime:
    return _add_days(base, n)


def _elapsed(minutes: int) -> Callable[[WallTime, int, ZoneInfo], WallTime]:
    def step(base: WallTime, n: int, zone: ZoneInfo) -> WallTime:
        # Near year 1 or 9999 the UTC instant itself, not only the sum, can leave the calendar.
        try:
            start = resolve(base, zone)[0].astimezone(UTC)
            end = start + timedelta(minutes=minutes * n)
        except OverflowError as exc:
            raise TimeRangeError(f"{base} + {n * minutes} minutes is out of range") from exc
        return wall_of(end, zone)

    return step


_STEPS: dict[str, Callable[[WallTime, int, ZoneInfo], WallTime]] = {
    "years": _step_years,
    "months": _step_months,
    "days": _step_days,
    "hours": _elapsed(60),
    "minutes": _elapsed(1),
}


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _apply_reset(base: WallTime, reset: Any) -> WallTime:
    month, day = _field(reset, "month"), _field(reset, "day")
    hour, minute = _field(reset, "hour"), _field(reset, "minute")
    wt = WallTime(
        base.year,
        base.month if month is None else month,
        base.day if day is None else day,  # unclamped: clamping happens at resolution
        base.hour if hour is None else hour,
        base.minute if minute is None else minute,
    )
    if hour == 24:
        # 24 is 00:00 of the following day; a named minute still applies on that day.
        nxt = _add_days(WallTime(wt.year, wt.month, wt.day), 1)
        wt = WallTime(nxt.year, nxt.month, nxt.day, 0, 0 if minute is None else minute)
    return wt


def _attribute_base(attributes: Mapping[str, Any] | None, name: str, zone: ZoneInfo) -> WallTime:
    if attributes is None or name not in attributes:
        raise TimeError(f"attribute '{name}' is missing (needed by the delay's 'from')")
    return parse_base_attribute(attributes[name], zone, name)


def shift(
    base: WallTime,
    delay: Any,
    zone: ZoneInfo,
    attributes: Mapping[str, Any] | None = None,
    sign: int = 1,
) -> WallTime:
    """The intended wall time ``sign * delay`` away from ``base`` (docs/semantics.md section 2).

    ``delay`` is duck-typed: ``.unit``, ``.amount`` and optionally ``.from_`` and ``.resetTo``.
    """
    source = getattr(delay, "from_", None)
    if source is not None:
        base = _attribute_base(attributes, source, zone)
    n = sign * delay.amount
    if n:
        try:
            step = _STEPS[delay.unit]
        except KeyError:
            raise TimeError(f"unknown delay unit {delay.unit!r}") from None
        base = step(base, n, zone)
    reset = getattr(delay, "resetTo", None)
    if reset is not None:
        base = _apply_reset(base, reset)
    return base
