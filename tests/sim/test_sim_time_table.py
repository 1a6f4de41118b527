"""Dates through `strategy simulate --format json`, against values worked out by hand from
docs/semantics.md section 2 (DST gaps and folds, month ends, hours vs days, delays and their options).

Every expected instant is written literally; nothing here recomputes it with the code under test.
DST facts used (tzdata): Berlin 2026-03-29 02:00->03:00 and 2026-10-25 03:00->02:00; New York
2026-03-08 02:00->03:00 and 2026-11-01 02:00->01:00; Sao Paulo 2017-10-15 00:00->01:00 and
2018-02-18 00:00->2018-02-17 23:00; Lord Howe (+10:30/+11:00) 2026-04-05 02:00->01:30 and
2026-10-04 02:00->02:30.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simkit import dates, events, noted_dates, notes, simulate_json, strategy

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
SAO_PAULO = "America/Sao_Paulo"
LORD_HOWE = "Australia/Lord_Howe"


def every(unit: str, amount: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"key": "every", "scheduleAfter": {"unit": unit, "amount": amount, **extra}, "task": "main"}
    ]


def first_then(unit: str, amount: int, first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Cycle 1 on the start date itself (or `first`), then every `amount` `unit`."""
    return [
        {
            "key": "first",
            "runOnCycle": 1,
            "scheduleAfter": first or {"unit": "days", "amount": 0},
            "task": "main",
        },
        {"key": "then", "scheduleAfter": {"unit": unit, "amount": amount}, "task": "main"},
    ]


# id, zone, calendars, start, cycles, main dates, {note kind: dates of the flagged events}
CASES: list[tuple[str, str, list[dict[str, Any]], str, list[str], dict[str, list[str]]]] = [
    (
        "berlin-daily-0215-spring-gap",
        BERLIN,
        every("days", 1),
        "2026-03-27T02:15:00+01:00",
        [
            "2026-03-28T02:15:00+01:00",
            "2026-03-29T03:15:00+02:00",
            "2026-03-30T02:15:00+02:00",
            "2026-03-31T02:15:00+02:00",
        ],
        {"dst-gap": ["2026-03-29T03:15:00+02:00"]},
    ),
    (
        "berlin-daily-0230-autumn-fold",
        BERLIN,
        every("days", 1),
        "2026-10-23T02:30:00+02:00",
        ["2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        {"dst-fold": ["2026-10-25T02:30:00+02:00"]},
    ),
    (
        "new-york-daily-0215-spring-gap",
        NEW_YORK,
        every("days", 1),
        "2026-03-06T02:15:00-05:00",
        ["2026-03-07T02:15:00-05:00", "2026-03-08T03:15:00-04:00", "2026-03-09T02:15:00-04:00"],
        {"dst-gap": ["2026-03-08T03:15:00-04:00"]},
    ),
    (
        "new-york-daily-0130-autumn-fold",
        NEW_YORK,
        every("days", 1),
        "2026-10-30T01:30:00-04:00",
        ["2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
        {"dst-fold": ["2026-11-01T01:30:00-04:00"]},
    ),
    (
        "sao-paulo-2017-daily-0030-gap-at-midnight",
        SAO_PAULO,
        every("days", 1),
        "2017-10-13T00:30:00-03:00",
        ["2017-10-14T00:30:00-03:00", "2017-10-15T01:30:00-02:00", "2017-10-16T00:30:00-02:00"],
        {"dst-gap": ["2017-10-15T01:30:00-02:00"]},
    ),
    (
        "sao-paulo-2018-daily-2330-fold",
        SAO_PAULO,
        every("days", 1),
        "2018-02-15T23:30:00-02:00",
        ["2018-02-16T23:30:00-02:00", "2018-02-17T23:30:00-02:00", "2018-02-18T23:30:00-03:00"],
        {"dst-fold": ["2018-02-17T23:30:00-02:00"]},
    ),
    (
        "lord-howe-daily-0215-half-hour-gap",
        LORD_HOWE,
        every("days", 1),
        "2026-10-02T02:15:00+10:30",
        ["2026-10-03T02:15:00+10:30", "2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"],
        {"dst-gap": ["2026-10-04T02:45:00+11:00"]},
    ),
    (
        "lord-howe-daily-0145-half-hour-fold",
        LORD_HOWE,
        every("days", 1),
        "2026-04-03T01:45:00+11:00",
        ["2026-04-04T01:45:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
        {"dst-fold": ["2026-04-05T01:45:00+11:00"]},
    ),
    (
        "berlin-monthly-on-the-31st",
        BERLIN,
        first_then("months", 1),
        "2026-01-31T09:00:00+01:00",
        [
            "2026-01-31T09:00:00+01:00",
            "2026-02-28T09:00:00+01:00",
            "2026-03-31T09:00:00+02:00",
            "2026-04-30T09:00:00+02:00",
        ],
        {"month-clamp": ["2026-02-28T09:00:00+01:00", "2026-04-30T09:00:00+02:00"]},
    ),
    (
        "berlin-started-jan-31-first-step-one-month",
        BERLIN,
        every("months", 1),
        "2026-01-31T09:00:00+01:00",
        ["2026-02-28T09:00:00+01:00", "2026-03-31T09:00:00+02:00", "2026-04-30T09:00:00+02:00"],
        {"month-clamp": ["2026-02-28T09:00:00+01:00", "2026-04-30T09:00:00+02:00"]},
    ),
    (
        "new-york-monthly-31st-leap-year-late-evening",
        NEW_YORK,
        first_then("months", 1),
        "2024-01-31T23:30:00-05:00",
        [
            "2024-01-31T23:30:00-05:00",
            "2024-02-29T23:30:00-05:00",
            "2024-03-31T23:30:00-04:00",
            "2024-04-30T23:30:00-04:00",
            "2024-05-31T23:30:00-04:00",
        ],
        {"month-clamp": ["2024-02-29T23:30:00-05:00", "2024-04-30T23:30:00-04:00"]},
    ),
    (
        "utc-yearly-on-feb-29",
        "UTC",
        first_then("years", 1),
        "2024-02-29T12:00:00Z",
        [
            "2024-02-29T12:00:00+00:00",
            "2025-02-28T12:00:00+00:00",
            "2026-02-28T12:00:00+00:00",
            "2027-02-28T12:00:00+00:00",
            "2028-02-29T12:00:00+00:00",
        ],
        {
            "month-clamp": [
                "2025-02-28T12:00:00+00:00",
                "2026-02-28T12:00:00+00:00",
                "2027-02-28T12:00:00+00:00",
            ]
        },
    ),
    (
        "berlin-24-hours-across-spring-change",
        BERLIN,
        every("hours", 24),
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T13:00:00+02:00", "2026-03-30T13:00:00+02:00"],
        {},
    ),
    (
        "berlin-1-day-across-spring-change",
        BERLIN,
        every("days", 1),
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T12:00:00+02:00", "2026-03-30T12:00:00+02:00"],
        {},
    ),
    (
        "berlin-24-hours-across-autumn-change",
        BERLIN,
        every("hours", 24),
        "2026-10-24T12:00:00+02:00",
        ["2026-10-25T11:00:00+01:00", "2026-10-26T11:00:00+01:00"],
        {},
    ),
    (
        "berlin-1-day-across-autumn-change",
        BERLIN,
        every("days", 1),
        "2026-10-24T12:00:00+02:00",
        ["2026-10-25T12:00:00+01:00", "2026-10-26T12:00:00+01:00"],
        {},
    ),
    (
        "lord-howe-24-hours-vs-half-hour-change",
        LORD_HOWE,
        every("hours", 24),
        "2026-10-03T12:00:00+10:30",
        ["2026-10-04T12:30:00+11:00", "2026-10-05T12:30:00+11:00"],
        {},
    ),
    (
        "lord-howe-1-day-vs-half-hour-change",
        LORD_HOWE,
        every("days", 1),
        "2026-10-03T12:00:00+10:30",
        ["2026-10-04T12:00:00+11:00", "2026-10-05T12:00:00+11:00"],
        {},
    ),
    (
        "new-york-90-minutes-is-elapsed-time-over-the-gap",
        NEW_YORK,
        every("minutes", 90),
        "2026-03-08T00:00:00-05:00",
        ["2026-03-08T01:30:00-05:00", "2026-03-08T04:00:00-04:00", "2026-03-08T05:30:00-04:00"],
        {},
    ),
    (
        "utc-monthly-reset-to-day-31",
        "UTC",
        every("months", 1, resetTo={"day": 31}),
        "2026-01-10T10:00:00Z",
        ["2026-02-28T10:00:00+00:00", "2026-03-31T10:00:00+00:00", "2026-04-30T10:00:00+00:00"],
        {"month-clamp": ["2026-02-28T10:00:00+00:00", "2026-04-30T10:00:00+00:00"]},
    ),
    (
        "utc-daily-reset-to-hour-24-is-next-midnight",
        "UTC",
        every("days", 1, resetTo={"hour": 24}),
        "2026-01-10T10:00:00Z",
        ["2026-01-12T00:00:00+00:00", "2026-01-14T00:00:00+00:00"],
        {},
    ),
    (
        "berlin-reset-to-0230-on-the-gap-day",
        BERLIN,
        every("days", 1, resetTo={"hour": 2, "minute": 30}),
        "2026-03-27T18:45:00+01:00",
        ["2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"],
        {"dst-gap": ["2026-03-29T03:30:00+02:00"]},
    ),
]


@pytest.mark.parametrize(
    ("zone", "calendars", "start", "expected", "flagged"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_main_event_dates(
    tmp_path: Path,
    zone: str,
    calendars: list[dict[str, Any]],
    start: str,
    expected: list[str],
    flagged: dict[str, list[str]],
) -> None:
    doc = simulate_json(tmp_path, strategy(calendars, tz=zone), start=start, cycles=len(expected))
    assert dates(doc, "main") == expected
    assert doc["instance"]["executionDate"] == expected[-1]
    for kind in ("dst-gap", "dst-fold", "month-clamp"):
        assert noted_dates(doc, kind) == flagged.get(kind, []), kind


def test_executionday_keeps_the_intended_day(tmp_path: Path) -> None:
    doc = simulate_json(
        tmp_path,
        strategy(every("months", 1), tz=BERLIN),
        start="2026-01-31T09:00:00+01:00",
        cycles=1,
    )
    # cycle 1 is Feb 28 (clamped), but the instance keeps aiming at the 31st
    assert doc["instance"]["executionDate"] == "2026-02-28T09:00:00+01:00"
    assert doc["instance"]["executionDay"] == 31


def test_initial_delay_moves_the_first_cycle_base(tmp_path: Path) -> None:
    doc = simulate_json(
        tmp_path,
        strategy(
            every("months", 1),
            initialDelay={"unit": "days", "amount": 5},
            onCreateTasks=[{"task": "welcome"}],
        ),
        start="2026-01-10T08:00:00Z",
        cycles=2,
    )
    assert dates(doc, "main") == ["2026-02-15T08:00:00+00:00", "2026-03-15T08:00:00+00:00"]
    # onCreate events hang off the start date, not the delayed base
    assert dates(doc, "welcome") == ["2026-01-10T08:00:00+00:00"]


def test_initial_delay_with_reset_zeroes_seconds(tmp_path: Path) -> None:
    doc = simulate_json(
        tmp_path,
        strategy(
            every("days", 7),
            initialDelay={"unit": "days", "amount": 1, "resetTo": {"hour": 9, "minute": 0}},
        ),
        start="2026-01-10T15:47:30Z",
        cycles=2,
    )
    assert dates(doc, "main") == ["2026-01-18T09:00:00+00:00", "2026-01-25T09:00:00+00:00"]


@pytest.mark.parametrize(
    "due",
    [
        "2026-01-31",
        "2026-01-31T00:00:00+01:00",
        "2026-01-30T23:30:00Z",
        "2026-01-31T05:59:59-03:00",
    ],
)
def test_from_attribute_with_reset_to(tmp_path: Path, due: str) -> None:
    first = {
        "unit": "days",
        "amount": 0,
        "from": "firstDueDate",
        "resetTo": {"hour": 9, "minute": 0},
    }
    doc = simulate_json(
        tmp_path,
        strategy(first_then("months", 1, first=first), tz=BERLIN),
        start="2026-01-10T12:00:00+01:00",
        cycles=3,
        attributes={"firstDueDate": due},
    )
    assert dates(doc, "main") == [
        "2026-01-31T09:00:00+01:00",
        "2026-02-28T09:00:00+01:00",
        "2026-03-31T09:00:00+02:00",
    ]
    assert doc["instance"]["executionDay"] == 31


def test_from_attribute_plus_amount(tmp_path: Path) -> None:
    first = {"unit": "months", "amount": 1, "from": "signedAt"}
    doc = simulate_json(
        tmp_path,
        strategy(first_then("months", 1, first=first), tz=NEW_YORK),
        start="2026-01-02T00:00:00-05:00",
        cycles=3,
        attributes={"signedAt": "2025-12-31T18:00:00-05:00"},
    )
    assert dates(doc, "main") == [
        "2026-01-31T18:00:00-05:00",
        "2026-02-28T18:00:00-05:00",
        "2026-03-31T18:00:00-04:00",
    ]


def test_leading_up_before_start_is_skipped_with_a_note(tmp_path: Path) -> None:
    leads = [
        {"task": "remind-early", "scheduleBefore": {"unit": "days", "amount": 3}},
        {"task": "remind-late", "scheduleBefore": {"unit": "days", "amount": 1}},
    ]
    cals = first_then("months", 1, first={"unit": "days", "amount": 1})
    for cal in cals:
        cal["leadingUpTasks"] = leads
    doc = simulate_json(tmp_path, strategy(cals), start="2026-01-30T09:00:00Z", cycles=2)
    assert dates(doc, "main") == ["2026-01-31T09:00:00+00:00", "2026-02-28T09:00:00+00:00"]
    # Jan 28 is before the start: not created; Jan 30 09:00 is the start itself: created
    assert dates(doc, "remind-early") == ["2026-02-25T09:00:00+00:00"]
    assert dates(doc, "remind-late") == ["2026-01-30T09:00:00+00:00", "2026-02-27T09:00:00+00:00"]
    skipped = notes(doc, "leading-up-skipped")
    assert len(skipped) == 1
    assert skipped[0]["eventSid"] is None
    assert "remind-early" in skipped[0]["message"]
    assert "2026-01-28T09:00:00+00:00" in skipped[0]["message"]
    assert [e["createdCycle"] for e in events(doc, "remind-late")] == [1, 2]
    assert all(not e["main"] for e in events(doc, "remind-late"))


def test_leading_up_in_a_dst_gap_is_flagged(tmp_path: Path) -> None:
    cals = every("days", 7)
    cals[0]["leadingUpTasks"] = [
        {"task": "heads-up", "scheduleBefore": {"unit": "days", "amount": 1}}
    ]
    doc = simulate_json(
        tmp_path, strategy(cals, tz=BERLIN), start="2026-03-23T02:30:00+01:00", cycles=1
    )
    assert dates(doc, "main") == ["2026-03-30T02:30:00+02:00"]
    assert dates(doc, "heads-up") == ["2026-03-29T03:30:00+02:00"]
    assert noted_dates(doc, "dst-gap") == ["2026-03-29T03:30:00+02:00"]


def test_on_create_events_with_delay_by(tmp_path: Path) -> None:
    doc = simulate_json(
        tmp_path,
        strategy(
            every("months", 1),
            tz=BERLIN,
            onCreateTasks=[
                {"task": "welcome"},
                {"task": "follow-up", "delayBy": {"unit": "days", "amount": 2}},
                {"task": "nudge", "delayBy": {"unit": "hours", "amount": 36}},
                {"task": "gated", "createIf": "wantsGated"},
                {"task": "gated-off", "createIf": "notWanted"},
            ],
        ),
        start="2026-03-28T10:00:00+01:00",
        cycles=1,
        scenario={"callbacks": {"notWanted": False}},
    )
    assert dates(doc, "welcome") == ["2026-03-28T10:00:00+01:00"]
    assert dates(doc, "follow-up") == ["2026-03-30T10:00:00+02:00"]
    assert dates(doc, "nudge") == ["2026-03-29T23:00:00+02:00"]
    assert dates(doc, "gated") == ["2026-03-28T10:00:00+01:00"]  # createIf defaults to true
    assert dates(doc, "gated-off") == []
    for task in ("welcome", "follow-up", "nudge"):
        (event,) = events(doc, task)
        assert event["main"] is False
        assert event["createdCycle"] == 1
        assert event["status"] == "PROCESSED"


def test_schedule_ends_when_no_calendar_applies(tmp_path: Path) -> None:
    cals = [
        {
            "key": "one",
            "runOnCycle": 1,
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "main",
        },
        {
            "key": "two",
            "runOnCycle": 2,
            "scheduleAfter": {"unit": "days", "amount": 10},
            "task": "main",
        },
    ]
    doc = simulate_json(tmp_path, strategy(cals), start="2026-05-01T08:00:00Z", cycles=6)
    assert dates(doc, "main") == ["2026-05-02T08:00:00+00:00", "2026-05-12T08:00:00+00:00"]
    assert doc["instance"]["cycle"] == 2
    assert doc["instance"]["endDate"] == "2026-05-12T08:00:00+00:00"
    assert doc["instance"]["status"] == "ACTIVE"


def test_leading_up_at_the_mains_instant_comes_first(tmp_path: Path) -> None:
    cals = every("days", 1)
    cals[0]["leadingUpTasks"] = [
        {"task": "same-time", "scheduleBefore": {"unit": "minutes", "amount": 0}}
    ]
    doc = simulate_json(tmp_path, strategy(cals), start="2026-01-05T09:00:00Z", cycles=2)
    assert [(e["task"], e["date"]) for e in doc["events"]] == [
        ("same-time", "2026-01-06T09:00:00+00:00"),
        ("main", "2026-01-06T09:00:00+00:00"),
        ("same-time", "2026-01-07T09:00:00+00:00"),
        ("main", "2026-01-07T09:00:00+00:00"),
    ]
