"""Tests for strategy_cli.core.timecalc (docs/semantics.md section 2)."""

from __future__ import annotations

import calendar
import functools
from datetime import UTC, date, datetime, timedelta, tzinfo
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy_cli.core.models import Delay, RetryDelay
from strategy_cli.core.timecalc import (
    TimeError,
    TimeRangeError,
    WallTime,
    delay_minutes,
    get_zone,
    parse_base_attribute,
    parse_instant,
    parse_wall_instant,
    resolve,
    shift,
    to_rfc3339,
    wall_of,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
SAO_PAULO = "America/Sao_Paulo"
LORD_HOWE = "Australia/Lord_Howe"
ZONES = [BERLIN, NEW_YORK, SAO_PAULO, LORD_HOWE, "UTC", "Asia/Kolkata"]
PROPS = settings(max_examples=200, deadline=None)


def delay(unit: str, amount: int, **extra: Any) -> Delay:
    return Delay.model_validate({"unit": unit, "amount": amount, **extra})


def resolved(wt: WallTime, zone_name: str) -> str:
    return to_rfc3339(resolve(wt, get_zone(zone_name))[0])


def month_len(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


# --- calendar arithmetic ----------------------------------------------------------------------


def test_jan_31_monthly_anchoring_does_not_drift() -> None:
    zone = get_zone(BERLIN)
    wt = WallTime(2026, 1, 31, 9)
    seen = [resolved(wt, BERLIN)]
    for _ in range(3):
        wt = shift(wt, delay("months", 1), zone)
        seen.append(resolved(wt, BERLIN))
    assert wt == WallTime(2026, 4, 31, 9)
    assert seen == [
        "2026-01-31T09:00:00+01:00",
        "2026-02-28T09:00:00+01:00",
        "2026-03-31T09:00:00+02:00",
        "2026-04-30T09:00:00+02:00",
    ]


def test_month_clamp_is_noted() -> None:
    _, notes = resolve(WallTime(2026, 2, 31, 9), get_zone("UTC"))
    assert notes == ("month-clamp",)
    assert resolve(WallTime(2026, 3, 31, 9), get_zone("UTC"))[1] == ()


def test_feb_29_yearly() -> None:
    zone = get_zone("UTC")
    start = WallTime(2024, 2, 29, 12)
    one = shift(start, delay("years", 1), zone)
    assert one == WallTime(2025, 2, 29, 12)
    assert resolve(one, zone) == (datetime(2025, 2, 28, 12, tzinfo=zone), ("month-clamp",))
    wt = start
    for _ in range(4):
        wt = shift(wt, delay("years", 1), zone)
    assert resolve(wt, zone) == (datetime(2028, 2, 29, 12, tzinfo=zone), ())


@pytest.mark.parametrize(
    ("intended", "days", "expected"),
    [
        (WallTime(2026, 2, 31, 8), 1, WallTime(2026, 3, 1, 8)),
        (WallTime(2024, 2, 31, 8), 1, WallTime(2024, 3, 1, 8)),
        (WallTime(2024, 2, 30, 8), 0, WallTime(2024, 2, 30, 8)),
        (WallTime(2026, 4, 31, 8), -1, WallTime(2026, 4, 29, 8)),
        (WallTime(2026, 12, 31, 23, 59), 1, WallTime(2027, 1, 1, 23, 59)),
    ],
)
def test_days_step_clamps_intended_day_first(
    intended: WallTime, days: int, expected: WallTime
) -> None:
    sign = -1 if days < 0 else 1
    assert shift(intended, delay("days", abs(days)), get_zone("UTC"), sign=sign) == expected


def test_months_backwards_across_year() -> None:
    zone = get_zone("UTC")
    assert shift(WallTime(2026, 1, 31), delay("months", 2), zone, sign=-1) == WallTime(2025, 11, 31)
    assert shift(WallTime(2026, 3, 15), delay("months", 14), zone) == WallTime(2027, 5, 15)


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        ({"hour": 24}, WallTime(2026, 2, 1, 0, 0)),
        ({"hour": 24, "minute": 30}, WallTime(2026, 2, 1, 0, 30)),
        ({"month": 2, "day": 31, "hour": 24}, WallTime(2026, 3, 1, 0, 0)),
        ({"month": 12, "hour": 24}, WallTime(2027, 1, 1, 0, 0)),
        ({"hour": 6}, WallTime(2026, 1, 31, 6, 45)),
        ({"minute": 0}, WallTime(2026, 1, 31, 9, 0)),
        ({}, WallTime(2026, 1, 31, 9, 45)),
    ],
)
def test_reset_to(reset: dict[str, int], expected: WallTime) -> None:
    base = WallTime(2026, 1, 31, 9, 45, 17, 500)
    got = shift(base, delay("days", 0, resetTo=reset), get_zone(BERLIN))
    assert got == expected


def test_reset_to_day_31_in_april_resolves_to_30th() -> None:
    zone = get_zone(BERLIN)
    got = shift(WallTime(2026, 3, 31, 9), delay("months", 1, resetTo={"day": 31}), zone)
    assert got == WallTime(2026, 4, 31, 9)
    assert resolve(got, zone) == (datetime(2026, 4, 30, 9, tzinfo=zone), ("month-clamp",))
    # the intended 31st survives into May
    assert resolved(shift(got, delay("months", 1), zone), BERLIN) == "2026-05-31T09:00:00+02:00"


def test_reset_to_applies_after_the_step() -> None:
    zone = get_zone("UTC")
    got = shift(WallTime(2026, 1, 10, 9), delay("days", 3, resetTo={"hour": 24}), zone)
    assert got == WallTime(2026, 1, 14, 0, 0)


def test_amount_zero_changes_nothing() -> None:
    zone = get_zone(BERLIN)
    in_gap = WallTime(2026, 3, 29, 2, 30, 5)
    for unit in ("years", "months", "days", "hours", "minutes"):
        assert shift(in_gap, delay(unit, 0), zone) == in_gap
    assert shift(WallTime(2026, 2, 31), delay("days", 0), zone) == WallTime(2026, 2, 31)


def test_retry_delay_and_duck_typed_delays() -> None:
    zone = get_zone("UTC")
    base = WallTime(2026, 1, 1, 10)
    assert shift(base, RetryDelay(unit="minutes", amount=90), zone) == WallTime(2026, 1, 1, 11, 30)
    plain = SimpleNamespace(unit="hours", amount=2)
    assert shift(base, plain, zone, sign=-1) == WallTime(2026, 1, 1, 8)


# --- `from` attributes ------------------------------------------------------------------------


def test_from_date_attribute_is_local_midnight() -> None:
    zone = get_zone(BERLIN)
    got = shift(
        WallTime(2000, 1, 1), delay("days", 2, **{"from": "due"}), zone, {"due": "2026-03-10"}
    )
    assert got == WallTime(2026, 3, 12)
    assert resolved(got, BERLIN) == "2026-03-12T00:00:00+01:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-10T12:00:00Z", WallTime(2026, 3, 10, 13)),
        ("2026-03-10t12:00:00z", WallTime(2026, 3, 10, 13)),
        ("2026-07-10T12:00:00+02:00", WallTime(2026, 7, 10, 12)),
        ("2026-07-10T12:00:00.250-04:00", WallTime(2026, 7, 10, 18, 0, 0, 250000)),
        ("2026-07-10T12:00:00", WallTime(2026, 7, 10, 12)),
        (datetime(2026, 3, 10, 12, tzinfo=UTC), WallTime(2026, 3, 10, 13)),
        (date(2026, 3, 10), WallTime(2026, 3, 10)),
    ],
)
def test_parse_base_attribute(value: Any, expected: WallTime) -> None:
    assert parse_base_attribute(value, get_zone(BERLIN), "due") == expected


def test_from_timestamp_attribute_with_reset() -> None:
    zone = get_zone(BERLIN)
    d = delay("months", 1, **{"from": "signed"}, resetTo={"day": 1, "hour": 8, "minute": 0})
    got = shift(WallTime(2000, 1, 1), d, zone, {"signed": "2026-01-31T23:30:00Z"})
    # 23:30Z is 00:30 on Feb 1 in Berlin; one month later is March, reset to the 1st at 08:00
    assert got == WallTime(2026, 3, 1, 8, 0)


@pytest.mark.parametrize("attributes", [None, {}, {"other": "2026-01-01"}])
def test_from_missing_attribute(attributes: dict[str, Any] | None) -> None:
    with pytest.raises(TimeError, match="'due'"):
        shift(
            WallTime(2026, 1, 1), delay("days", 1, **{"from": "due"}), get_zone("UTC"), attributes
        )


@pytest.mark.parametrize("value", ["soon", "2026-13-01", "", None, 12, True, "2026-02-30"])
def test_from_unparsable_attribute(value: Any) -> None:
    with pytest.raises(TimeError, match="attribute 'due'"):
        shift(
            WallTime(2026, 1, 1),
            delay("days", 1, **{"from": "due"}),
            get_zone("UTC"),
            {"due": value},
        )


# --- DST --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "wt", "expected", "notes"),
    [
        (BERLIN, WallTime(2026, 3, 29, 2, 30), "2026-03-29T03:30:00+02:00", ("dst-gap",)),
        (BERLIN, WallTime(2026, 3, 29, 2, 0), "2026-03-29T03:00:00+02:00", ("dst-gap",)),
        (BERLIN, WallTime(2026, 3, 29, 3, 0), "2026-03-29T03:00:00+02:00", ()),
        (BERLIN, WallTime(2026, 3, 29, 1, 59), "2026-03-29T01:59:00+01:00", ()),
        (BERLIN, WallTime(2026, 10, 25, 2, 30), "2026-10-25T02:30:00+02:00", ("dst-fold",)),
        (BERLIN, WallTime(2026, 10, 25, 3, 0), "2026-10-25T03:00:00+01:00", ()),
        (NEW_YORK, WallTime(2026, 3, 8, 2, 30), "2026-03-08T03:30:00-04:00", ("dst-gap",)),
        (NEW_YORK, WallTime(2026, 11, 1, 1, 30), "2026-11-01T01:30:00-04:00", ("dst-fold",)),
        (SAO_PAULO, WallTime(2018, 11, 4, 0, 30), "2018-11-04T01:30:00-02:00", ("dst-gap",)),
        (SAO_PAULO, WallTime(2018, 11, 4, 1, 0), "2018-11-04T01:00:00-02:00", ()),
        (SAO_PAULO, WallTime(2019, 2, 16, 23, 30), "2019-02-16T23:30:00-02:00", ("dst-fold",)),
        (LORD_HOWE, WallTime(2026, 10, 4, 2, 15), "2026-10-04T02:45:00+11:00", ("dst-gap",)),
        (LORD_HOWE, WallTime(2026, 10, 4, 2, 30), "2026-10-04T02:30:00+11:00", ()),
        (LORD_HOWE, WallTime(2026, 4, 5, 1, 45), "2026-04-05T01:45:00+11:00", ("dst-fold",)),
        (LORD_HOWE, WallTime(2026, 4, 5, 2, 0), "2026-04-05T02:00:00+10:30", ()),
        (NEW_YORK, WallTime(2026, 2, 31, 1, 30), "2026-02-28T01:30:00-05:00", ("month-clamp",)),
        ("Asia/Kolkata", WallTime(2026, 3, 29, 2, 30), "2026-03-29T02:30:00+05:30", ()),
    ],
)
def test_resolve_dst(zone_name: str, wt: WallTime, expected: str, notes: tuple[str, ...]) -> None:
    zone = get_zone(zone_name)
    instant, got_notes = resolve(wt, zone)
    assert to_rfc3339(instant) == expected
    assert got_notes == notes
    assert instant.tzinfo is zone


def test_hours_and_days_differ_across_dst() -> None:
    zone = get_zone(BERLIN)
    base = WallTime(2026, 3, 28, 12)
    assert resolved(shift(base, delay("hours", 24), zone), BERLIN) == "2026-03-29T13:00:00+02:00"
    assert resolved(shift(base, delay("days", 1), zone), BERLIN) == "2026-03-29T12:00:00+02:00"
    ny = get_zone(NEW_YORK)
    base = WallTime(2026, 10, 31, 12)
    assert resolved(shift(base, delay("hours", 24), ny), NEW_YORK) == "2026-11-01T11:00:00-05:00"
    assert resolved(shift(base, delay("minutes", 1440), ny), NEW_YORK) == (
        "2026-11-01T11:00:00-05:00"
    )
    assert resolved(shift(base, delay("days", 1), ny), NEW_YORK) == "2026-11-01T12:00:00-05:00"


def test_daily_0215_does_not_drift_over_gap() -> None:
    zone = get_zone(BERLIN)
    wt = WallTime(2026, 3, 28, 2, 15)
    out = []
    for _ in range(3):
        wt = shift(wt, delay("days", 1), zone)
        instant, notes = resolve(wt, zone)
        out.append((wt, to_rfc3339(instant), notes))
    assert out == [
        (WallTime(2026, 3, 29, 2, 15), "2026-03-29T03:15:00+02:00", ("dst-gap",)),
        (WallTime(2026, 3, 30, 2, 15), "2026-03-30T02:15:00+02:00", ()),
        (WallTime(2026, 3, 31, 2, 15), "2026-03-31T02:15:00+02:00", ()),
    ]


def test_hourly_steps_through_fold_do_not_loop() -> None:
    zone = get_zone(NEW_YORK)
    wt = WallTime(2026, 11, 1, 0, 30)
    stamps = []
    for _ in range(3):
        wt = shift(wt, delay("hours", 1), zone)
        stamps.append(resolved(wt, NEW_YORK))
    assert stamps == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:30:00-05:00",
    ]
    # the second occurrence is real, not an adjustment, so it carries no note
    assert resolve(WallTime(2026, 11, 1, 1, 30, fold=1), zone)[1] == ()


def test_hours_from_gap_time_start_at_resolved_instant() -> None:
    zone = get_zone(BERLIN)
    got = shift(WallTime(2026, 3, 29, 2, 30), delay("hours", 1), zone)
    assert got == WallTime(2026, 3, 29, 4, 30)


# --- zones, parsing and formatting ------------------------------------------------------------


def test_get_zone() -> None:
    assert get_zone(None) is get_zone("UTC")
    assert get_zone(BERLIN) is get_zone(BERLIN)
    assert get_zone(BERLIN).key == BERLIN
    for bad in ("Mars/Olympus", "", "../etc/passwd", "America"):
        with pytest.raises(TimeError, match="time zone"):
            get_zone(bad)


def test_wall_of() -> None:
    zone = get_zone(NEW_YORK)
    assert wall_of(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), zone) == WallTime(
        2026, 11, 1, 1, 30, fold=1
    )
    assert wall_of(datetime(2026, 7, 1, 12, tzinfo=UTC), zone) == WallTime(2026, 7, 1, 8)
    with pytest.raises(TimeError):
        wall_of(datetime(2026, 7, 1, 12), zone)


def test_to_rfc3339() -> None:
    zone = get_zone(BERLIN)
    assert to_rfc3339(datetime(2026, 1, 31, 9, tzinfo=zone)) == "2026-01-31T09:00:00+01:00"
    assert to_rfc3339(datetime(2026, 1, 31, 9, tzinfo=UTC)) == "2026-01-31T09:00:00+00:00"
    assert to_rfc3339(datetime(2026, 1, 31, 9, 0, 1, 5000, tzinfo=zone)) == (
        "2026-01-31T09:00:01.005000+01:00"
    )
    with pytest.raises(TimeError):
        to_rfc3339(datetime(2026, 1, 31, 9))


def test_parse_instant() -> None:
    zone = get_zone(BERLIN)
    got = parse_instant("2026-01-31T08:00:00Z", zone)
    assert to_rfc3339(got) == "2026-01-31T09:00:00+01:00"
    assert got.tzinfo is zone
    assert to_rfc3339(parse_instant("2026-03-29T02:30", zone)) == "2026-03-29T03:30:00+02:00"
    assert to_rfc3339(parse_instant(" 2026-06-01 ", zone)) == "2026-06-01T00:00:00+02:00"
    for bad in ("tomorrow", "", "2026-02-30T00:00:00Z"):
        with pytest.raises(TimeError):
            parse_instant(bad, zone)


@pytest.mark.parametrize(
    ("unit", "amount", "minutes"),
    [
        ("years", 1, 525600),
        ("months", 2, 86400),
        ("days", 3, 4320),
        ("hours", 5, 300),
        ("minutes", 7, 7),
        ("days", 0, 0),
    ],
)
def test_delay_minutes(unit: str, amount: int, minutes: int) -> None:
    assert delay_minutes(delay(unit, amount)) == minutes


# --- properties -------------------------------------------------------------------------------


@functools.cache
def local_transitions(name: str) -> tuple[datetime, ...]:
    """Naive local wall times at which `name` changed its UTC offset, 2010-2030."""
    zone = ZoneInfo(name)
    out = []
    t, stop = datetime(2010, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    while t < stop:
        nxt = t + timedelta(days=1)
        off = nxt.astimezone(zone).utcoffset()
        if off != prev:
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(zone).utcoffset() == prev else (lo, mid)
            out.append((hi + prev).replace(tzinfo=None))
            prev = off
        t = nxt
    return tuple(out)


@st.composite
def zoned_wall_times(draw: st.DrawFn) -> tuple[str, WallTime]:
    """A zone and a wall time, often within two hours of one of the zone's DST changes."""
    name = draw(st.sampled_from(ZONES))
    changes = local_transitions(name)
    if changes and draw(st.booleans()):
        naive = draw(st.sampled_from(changes)) + timedelta(minutes=draw(st.integers(-120, 120)))
        return name, WallTime(naive.year, naive.month, naive.day, naive.hour, naive.minute)
    return name, WallTime(
        draw(st.integers(1990, 2040)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 31)),
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
    )


def matching_instants(naive: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every UTC instant whose wall time in `zone` is `naive`, found without fold semantics."""
    near = naive.replace(tzinfo=UTC)
    offsets = {(near + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-30, 31)}
    hits = []
    for off in offsets:
        assert off is not None
        instant = (naive - off).replace(tzinfo=UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == naive:
            hits.append(instant)
    return sorted(hits)


@PROPS
@given(
    start_day=st.integers(1, 31),
    start_month=st.integers(1, 12),
    year=st.integers(1900, 2200),
    hour=st.integers(0, 23),
    zone_name=st.sampled_from(ZONES),
)
def test_month_anchoring_never_drifts(
    start_day: int, start_month: int, year: int, hour: int, zone_name: str
) -> None:
    zone = get_zone(zone_name)
    wt = WallTime(year, start_month, start_day, hour, 0)
    monthly = delay("months", 1)
    for _ in range(120):
        wt = shift(wt, monthly, zone)
        instant, _ = resolve(wt, zone)
        assert wt.day == start_day
        assert (instant.year, instant.month) == (wt.year, wt.month)
        assert instant.day == min(start_day, month_len(wt.year, wt.month))


@PROPS
@given(zoned_wall_times())
def test_resolved_instants_exist(case: tuple[str, WallTime]) -> None:
    zone_name, wt = case
    zone = get_zone(zone_name)
    instant, notes = resolve(wt, zone)
    assert instant.tzinfo is zone
    back = instant.astimezone(UTC).astimezone(zone)
    assert (back.replace(tzinfo=None), back.fold) == (instant.replace(tzinfo=None), instant.fold)

    clamped_day = min(wt.day, month_len(wt.year, wt.month))
    assert ("month-clamp" in notes) == (clamped_day != wt.day)
    naive = datetime(wt.year, wt.month, clamped_day, wt.hour, wt.minute)
    hits = matching_instants(naive, zone)
    assert ("dst-gap" in notes) == (not hits)
    assert ("dst-fold" in notes) == (len(hits) == 2)
    if hits:
        # aware == across zones is always False for ambiguous times (PEP 495): compare in UTC
        assert instant.astimezone(UTC) == hits[0]  # the only, or the earlier, instant
        if "month-clamp" not in notes:
            assert wall_of(instant, zone)._replace(exact=False) == wt
    else:
        before = (naive - timedelta(hours=6)).replace(tzinfo=zone).utcoffset()
        assert before is not None
        assert instant.astimezone(UTC) == (naive - before).replace(tzinfo=UTC)
        moved = instant.replace(tzinfo=None) - naive
        assert moved == instant.utcoffset() - before
        assert timedelta(0) < moved <= timedelta(hours=2)


@PROPS
@given(
    zoned_wall_times(),
    st.sampled_from(["days", "months", "years"]),
    st.integers(0, 400),
)
def test_calendar_steps_keep_time_of_day(case: tuple[str, WallTime], unit: str, n: int) -> None:
    zone_name, base = case
    zone = get_zone(zone_name)
    got = shift(base, delay(unit, n), zone)
    assert (got.hour, got.minute) == (base.hour, base.minute)
    instant, notes = resolve(got, zone)
    if "dst-gap" not in notes:
        assert (instant.hour, instant.minute) == (base.hour, base.minute)
    if unit == "days":
        start = date(base.year, base.month, min(base.day, month_len(base.year, base.month)))
        assert instant.date() == start + timedelta(days=n)


@PROPS
@given(zoned_wall_times(), st.sampled_from(["hours", "minutes"]), st.integers(-3000, 3000))
def test_elapsed_steps_are_exact(case: tuple[str, WallTime], unit: str, n: int) -> None:
    zone_name, base = case
    zone = get_zone(zone_name)
    start, _ = resolve(base, zone)
    got = shift(base, delay(unit, abs(n)), zone, sign=-1 if n < 0 else 1)
    end, notes = resolve(got, zone)
    step = timedelta(hours=n) if unit == "hours" else timedelta(minutes=n)
    assert end.astimezone(UTC) - start.astimezone(UTC) == step
    if n:
        assert "dst-gap" not in notes and "month-clamp" not in notes


@PROPS
@given(
    zoned_wall_times(),
    st.integers(1, 48) | st.integers(-48, -1),
    st.sampled_from(["hours", "minutes"]),
)
def test_elapsed_steps_land_on_real_instants_and_are_never_flagged(
    case: tuple[str, WallTime], n: int, unit: str
) -> None:
    """An elapsed step's result is an instant that exists: nothing was adjusted, so no note,
    even on the first occurrence of a repeated hour (only a chosen instant is a `dst-fold`)."""
    zone_name, wt = case
    zone = get_zone(zone_name)
    start, _ = resolve(wt, zone)
    amount = n if unit == "hours" else n * 37
    moved = shift(wt, delay(unit, abs(amount)), zone, sign=1 if amount >= 0 else -1)
    instant, notes = resolve(moved, zone)
    assert notes == ()
    step = timedelta(hours=amount) if unit == "hours" else timedelta(minutes=amount)
    assert instant.astimezone(UTC) == start.astimezone(UTC) + step


def test_a_calendar_step_onto_a_repeated_hour_is_flagged_and_an_elapsed_one_is_not() -> None:
    zone = get_zone(NEW_YORK)  # 2027-11-07: 01:00-02:00 happens twice
    by_hour = shift(WallTime(2027, 11, 7, 0, 30), delay("hours", 1), zone)
    assert resolve(by_hour, zone) == (datetime(2027, 11, 7, 1, 30, tzinfo=zone), ())
    by_day = shift(WallTime(2027, 11, 6, 1, 30), delay("days", 1), zone)
    assert resolve(by_day, zone) == (datetime(2027, 11, 7, 1, 30, tzinfo=zone), ("dst-fold",))
    later = shift(WallTime(2027, 11, 7, 0, 30), delay("hours", 2), zone)
    assert resolve(later, zone)[0].utcoffset() == timedelta(hours=-5)


def test_a_start_without_offset_keeps_its_written_wall_time_as_intended() -> None:
    """Inside a gap, the instant moves (02:30 -> 03:30) but the intended wall time stays 02:30,
    so later cycles keep 02:30; with an offset, the instant's own wall time is intended."""
    zone = get_zone(BERLIN)
    instant, intended = parse_wall_instant("2027-03-28T02:30:00", zone)
    assert to_rfc3339(instant) == "2027-03-28T03:30:00+02:00"
    assert intended == WallTime(2027, 3, 28, 2, 30)
    nxt = shift(intended, delay("days", 1), zone)
    assert to_rfc3339(resolve(nxt, zone)[0]) == "2027-03-29T02:30:00+02:00"
    instant, intended = parse_wall_instant("2027-03-28T03:30:00+02:00", zone)
    assert intended == WallTime(2027, 3, 28, 3, 30)


# --- month ends, units and the ends of the calendar -------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (WallTime(2027, 1, 29, 9), WallTime(2027, 3, 1, 9)),  # Feb 29 does not exist: Feb 28 + 1
        (WallTime(2027, 1, 31, 9), WallTime(2027, 3, 1, 9)),
        (WallTime(2027, 1, 28, 9), WallTime(2027, 3, 1, 9)),
        (WallTime(2028, 1, 29, 9), WallTime(2028, 3, 1, 9)),  # leap year: Feb 29 + 1
        (WallTime(2028, 1, 28, 9), WallTime(2028, 2, 29, 9)),
        (WallTime(2027, 3, 31, 9), WallTime(2027, 5, 1, 9)),  # Apr 31 is Apr 30
    ],
)
def test_a_days_step_from_a_month_end_counts_from_the_clamped_day(
    start: WallTime, expected: WallTime
) -> None:
    zone = get_zone("UTC")
    assert shift(shift(start, delay("months", 1), zone), delay("days", 1), zone) == expected


def test_an_unknown_unit_is_a_time_error_naming_it() -> None:
    base, zone = WallTime(2026, 1, 1), get_zone("UTC")
    with pytest.raises(TimeError, match="unknown delay unit 'weeks'"):
        shift(base, SimpleNamespace(unit="weeks", amount=1), zone)
    # Nothing to add: the unit is never looked up.
    assert shift(base, SimpleNamespace(unit="weeks", amount=0), zone) == base


@pytest.mark.parametrize("zone_name", ["UTC", BERLIN, NEW_YORK, "Pacific/Kiritimati"])
@pytest.mark.parametrize(
    ("start", "unit", "sign"),
    [
        (WallTime(9999, 12, 31, 23, 30), "days", 1),
        (WallTime(9999, 12, 31, 23, 30), "hours", 1),
        (WallTime(9999, 12, 31, 23, 59), "minutes", 1),
        (WallTime(9999, 12, 1), "months", 1),
        (WallTime(9999, 1, 1), "years", 1),
        (WallTime(1, 1, 1, 0, 30), "days", -1),
        (WallTime(1, 1, 1, 0, 30), "hours", -1),
        (WallTime(1, 1, 1), "minutes", -1),
        (WallTime(1, 1, 1), "months", -1),
        (WallTime(1, 1, 1), "years", -1),
    ],
)
def test_steps_off_the_calendar_raise_time_range_error(
    zone_name: str, start: WallTime, unit: str, sign: int
) -> None:
    zone = get_zone(zone_name)
    with pytest.raises(TimeRangeError, match="out of range"):
        # Calendar steps aim at a wall time (year 10000 is only refused when resolved).
        resolve(shift(start, delay(unit, 1), zone, sign=sign), zone)


def test_steps_near_the_ends_of_the_calendar_still_work() -> None:
    zone = get_zone("UTC")
    assert shift(WallTime(9999, 12, 30, 23), delay("days", 1), zone) == WallTime(9999, 12, 31, 23)
    assert shift(WallTime(1, 1, 2), delay("days", 1), zone, sign=-1) == WallTime(1, 1, 1)
    assert shift(WallTime(1, 1, 1, 5), delay("hours", 1), zone) == WallTime(1, 1, 1, 6)
    assert issubclass(TimeRangeError, TimeError)


@pytest.mark.parametrize("name", [5, "", "   ", ["UTC"]])
def test_a_zone_that_is_not_a_name_is_a_time_error(name: Any) -> None:
    with pytest.raises(TimeError, match="unknown time zone"):
        get_zone(name)


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: as naive as no tzinfo at all."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_datetime_whose_zone_gives_no_offset_is_naive() -> None:
    with pytest.raises(TimeError, match="timezone-aware"):
        wall_of(datetime(2026, 1, 1, tzinfo=_NoOffset()), get_zone("UTC"))
    with pytest.raises(TimeError, match="timezone-aware"):
        to_rfc3339(datetime(2026, 1, 1, tzinfo=_NoOffset()))


def test_delays_given_as_plain_mappings() -> None:
    assert delay_minutes({"unit": "hours", "amount": 2}) == 120
    reset = SimpleNamespace(unit="days", amount=1, resetTo={"hour": 6, "minute": 15})
    assert shift(WallTime(2026, 1, 1, 9), reset, get_zone("UTC")) == WallTime(2026, 1, 2, 6, 15)


@pytest.mark.parametrize("month", [0, 13])
def test_a_wall_time_in_no_month_is_a_range_error(month: int) -> None:
    with pytest.raises(TimeRangeError):
        resolve(WallTime(2026, month, 30), get_zone("UTC"))


def test_parse_rfc3339_reads_lower_case_and_padded_text() -> None:
    from strategy_cli.core.timecalc import parse_rfc3339

    expected = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    for text in ("2026-01-31T09:00:00Z", "2026-01-31t09:00:00z", " 2026-01-31T09:00:00+00:00 "):
        assert parse_rfc3339(text) == expected
    assert parse_rfc3339("2026-01-31T09:00").tzinfo is None  # naive: the caller decides
    with pytest.raises(ValueError):
        parse_rfc3339("31/01/2026")
