"""Properties of the engine's schedule (docs/semantics.md sections 2-3), checked with hypothesis."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from simkit import strategy

from strategy_cli.core.models import Settings
from strategy_cli.core.simulate import document, simulate

ZONES = ["Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe", "UTC"]
PROPS = settings(max_examples=60, deadline=None)
RECORD = {"sid": "strategy-under-test", "name": "prop", "version": 1}


def run(doc: dict[str, Any], start: datetime, cycles: int) -> dict[str, Any]:
    box = simulate(RECORD, Settings.model_validate(doc["settings"]), {}, start, cycles=cycles)
    return document(box)


def as_delay(minutes: int) -> dict[str, Any]:
    if minutes % 1440 == 0:
        return {"unit": "days", "amount": minutes // 1440}
    if minutes % 60 == 0:
        return {"unit": "hours", "amount": minutes // 60}
    return {"unit": "minutes", "amount": minutes}


# Distinct lead times, at least 3 hours apart so a DST shift (at most 1 h) cannot reorder them;
# the last one may be 0 (at the main's own instant: still listed before the main).
LEADS = st.tuples(
    st.lists(st.integers(1, 80), min_size=1, max_size=5, unique=True), st.booleans()
).map(lambda t: sorted((x * 180 for x in t[0]), reverse=True) + ([0] if t[1] else []))
STARTS = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@PROPS
@given(
    leads=LEADS,
    zone=st.sampled_from(ZONES),
    start=STARTS,
    step=st.sampled_from([{"unit": "months", "amount": 1}, {"unit": "days", "amount": 30}]),
)
def test_events_of_a_cycle_are_ordered_as_declared(
    leads: list[int], zone: str, start: datetime, step: dict[str, Any]
) -> None:
    names = [f"lead-{i}" for i in range(len(leads))]
    cal = {
        "key": "every",
        "scheduleAfter": step,
        "task": "main",
        "leadingUpTasks": [
            {"task": name, "scheduleBefore": as_delay(m)}
            for name, m in zip(names, leads, strict=True)
        ],
    }
    doc = run(strategy([cal], tz=zone), start.replace(second=0, microsecond=0), cycles=6)
    instants = [datetime.fromisoformat(e["date"]) for e in doc["events"]]
    assert instants == sorted(instants), "the document lists events by date"
    for n in range(1, 7):
        in_cycle = [e["task"] for e in doc["events"] if e["createdCycle"] == n]
        assert in_cycle[-1] == "main", f"cycle {n}: main is not after its leading-ups"
        declared = [name for name in names if name in in_cycle]
        assert in_cycle[:-1] == declared, f"cycle {n}: {in_cycle}"
        if n > 1:  # only cycle 1 can lose leading-ups (before the start)
            assert declared == names


@PROPS
@given(
    zone=st.sampled_from(ZONES),
    year=st.integers(2000, 2030),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    minute_of_day=st.integers(0, 1439),
    first_step=st.booleans(),
)
def test_month_anchoring_through_the_engine(
    zone: str, year: int, month: int, day: int, minute_of_day: int, first_step: bool
) -> None:
    tz = ZoneInfo(zone)
    day = min(day, calendar.monthrange(year, month)[1])
    wall = datetime(year, month, day, tzinfo=tz) + timedelta(minutes=minute_of_day)
    start = wall.astimezone(UTC).astimezone(tz)  # a real instant; its own local time
    anchor_day, anchor_time = start.day, start.time()
    monthly = {"key": "monthly", "scheduleAfter": {"unit": "months", "amount": 1}, "task": "main"}
    cals = [monthly]
    if not first_step:  # cycle 1 on the start date itself
        first = {"key": "first", "runOnCycle": 1, "task": "main"}
        cals = [{**first, "scheduleAfter": {"unit": "days", "amount": 0}}, monthly]
    doc = run(strategy(cals, tz=zone), start, cycles=120)
    mains = [e for e in doc["events"] if e["main"]]
    assert len(mains) == 120
    gaps = {n["eventSid"] for n in doc["notes"] if n["kind"] == "dst-gap"}
    clamps = {n["eventSid"] for n in doc["notes"] if n["kind"] == "month-clamp"}
    for event in mains:
        local = datetime.fromisoformat(event["date"]).astimezone(tz)
        length = calendar.monthrange(local.year, local.month)[1]
        assert local.day == min(anchor_day, length), event["date"]
        assert (event["sid"] in clamps) == (anchor_day > length), event["date"]
        if event["sid"] not in gaps:
            assert local.time() == anchor_time, event["date"]
    assert doc["instance"]["executionDay"] == anchor_day
