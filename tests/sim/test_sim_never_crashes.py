"""No valid strategy, start, zone or scenario makes the simulator crash (hypothesis).

Strategies are drawn from the space the linter accepts: random delays (every unit, resetTo,
amount 0), zones with DST, retry policies, branching rules, optional and async steps, and
scripted outcomes. The run must end with records whose invariants hold, or with a StrategyError
(a user-facing message), never with another exception.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy_cli.core.models import StrategyFile
from strategy_cli.core.records import is_terminal
from strategy_cli.core.scenario import Scenario
from strategy_cli.core.simulate import document, simulate
from strategy_cli.errors import StrategyError

UNITS = ["years", "months", "days", "hours", "minutes"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe"]

delay = st.fixed_dictionaries(
    {"unit": st.sampled_from(UNITS), "amount": st.integers(0, 40)},
    optional={
        "resetTo": st.fixed_dictionaries(
            {},
            optional={
                "month": st.integers(1, 12),
                "day": st.integers(1, 31),
                "hour": st.integers(0, 24),
                "minute": st.integers(0, 59),
            },
        )
    },
)
positive_delay = st.fixed_dictionaries(
    {"unit": st.sampled_from(["months", "days", "hours"]), "amount": st.integers(1, 3)}
)
retry = st.fixed_dictionaries(
    {"times": st.integers(0, 3)},
    optional={
        "retryAfter": delay,
        "pauseBeforeCancel": st.booleans(),
        "retryStrategy": st.lists(
            st.fixed_dictionaries({"unit": st.sampled_from(UNITS), "amount": st.integers(0, 5)}),
            max_size=3,
        ),
    },
)
outcome = st.one_of(
    st.sampled_from(["ok", "fail"]),
    st.builds(
        lambda ok, status: {"ok": ok, "status": status}, st.booleans(), st.integers(200, 599)
    ),
)


@st.composite
def strategies(draw: Any) -> dict[str, Any]:
    calendars = [{"key": "main", "scheduleAfter": draw(positive_delay), "task": "charge"}]
    if draw(st.booleans()):
        calendars.insert(
            0, {"key": "first", "runOnCycle": 1, "scheduleAfter": draw(delay), "task": "charge"}
        )
    leads = draw(
        st.lists(
            st.fixed_dictionaries({"task": st.just("remind"), "scheduleBefore": delay}), max_size=3
        )
    )
    calendars[-1]["leadingUpTasks"] = leads
    steps: list[dict[str, Any]] = [
        {"key": "collect", "action": "call", "nextStep": "notify"},
        {"key": "notify", "action": "call", "optional": draw(st.booleans()), "final": True},
    ]
    if draw(st.booleans()):
        steps[0]["nextStepRules"] = [{"if": "onError", "nextStep": "notify"}]
    if draw(st.booleans()):
        steps[0]["retryConfig"] = draw(retry)
    return {
        "name": "fuzz",
        "settings": {
            "config": {"timezone": draw(st.sampled_from(ZONES))},
            "schedule": {
                "calendars": calendars,
                **({"initialDelay": draw(delay)} if draw(st.booleans()) else {}),
            },
            "onCreateTasks": [{"task": "remind", "delayBy": draw(delay)}]
            if draw(st.booleans())
            else [],
            "onCancelTasks": [{"task": "remind"}],
            "services": [
                {
                    "key": "svc",
                    "baseUrls": [{"environment": "prod", "url": "https://svc.example.com"}],
                    "methods": [
                        {"key": "post", "url": "/x", "method": "post", "async": draw(st.booleans())}
                    ],
                }
            ],
            "tasks": [
                {
                    "key": "charge",
                    "steps": steps,
                    "initialStep": "collect",
                    "retryConfig": draw(retry),
                },
                {
                    "key": "remind",
                    "steps": [{"key": "go", "action": "call", "final": True}],
                    "initialStep": "go",
                },
            ],
            "actions": [
                {
                    "key": "call",
                    "service": "svc",
                    "method": "post",
                    "data": {"n": "{{ instance.cycle }}"},
                }
            ],
        },
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=strategies(),
    start=st.datetimes(datetime(2017, 1, 1), datetime(2030, 12, 31)),
    cycles=st.integers(1, 14),
    outcomes=st.lists(outcome, max_size=6),
    manual=st.sampled_from(["trigger", "hold"]),
)
def test_simulation_never_crashes(
    doc: dict[str, Any], start: datetime, cycles: int, outcomes: list[Any], manual: str
) -> None:
    model = StrategyFile.model_validate(doc)
    record = {"sid": "s-1", "name": "fuzz", "version": 1, "settings": doc["settings"]}
    scenario = Scenario.model_validate(
        {"outcomes": {"charge.collect": outcomes or ["ok"]}, "manual": manual}
    )
    try:
        box = simulate(
            record, model.settings, {}, start.replace(tzinfo=UTC), cycles=cycles, scenario=scenario
        )
    except StrategyError:
        return  # a schedule that cannot be computed is reported, not crashed on
    out = document(box)
    dates = [datetime.fromisoformat(e["date"]) for e in out["events"]]
    assert dates == sorted(dates)
    assert max((e["createdCycle"] for e in out["events"]), default=1) <= cycles
    assert out["instance"]["status"] in ("ACTIVE", "PAUSED", "CANCELED")
    for event in out["events"]:
        assert not any(k.startswith("_") for k in event)
        assert datetime.fromisoformat(event["date"]).utcoffset() is not None
        if event["status"] == "PROCESSED":
            assert event["attempt"] >= 0 and event["taskStatus"]["lastStep"]
    pending = [e for e in out["events"] if not is_terminal(e)]
    if pending:
        first = min(pending, key=lambda e: datetime.fromisoformat(e["date"]))
        assert datetime.fromisoformat(
            out["instance"]["nextEvent"]["date"]
        ) == datetime.fromisoformat(first["date"])
    assert start.replace(tzinfo=UTC) - timedelta(days=1) <= datetime.fromisoformat(
        out["instance"]["startDate"]
    )
