"""Every step, retry and branching rule of docs/semantics.md sections 5-6 (and the lifecycle rules of
sections 3-4 they trigger), through `strategy simulate --format json` with scenario files.

The main event of cycle 1 runs at 2026-01-06T09:00 UTC unless a test says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simkit import dates, events, simulate_json, strategy

START = "2026-01-05T09:00:00Z"
D = "2026-01-06T09:00:00+00:00"
DAILY = [{"key": "daily", "scheduleAfter": {"unit": "days", "amount": 1}, "task": "t"}]


def task(
    steps: list[dict[str, Any]], retry: dict[str, Any] | None = None, key: str = "t"
) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "steps": steps, "initialStep": steps[0]["key"]}
    if retry is not None:
        out["retryConfig"] = retry
    return out


def run(
    tmp_path: Path,
    steps: list[dict[str, Any]],
    scenario: dict[str, Any] | None = None,
    *,
    retry: dict[str, Any] | None = None,
    cycles: int = 1,
    calendars: list[dict[str, Any]] | None = None,
    tz: str = "UTC",
    start: str = START,
    **settings: Any,
) -> dict[str, Any]:
    doc = strategy(
        calendars or DAILY,
        tz=tz,
        tasks=[task(steps, retry), *settings.pop("tasks", [])],
        **settings,
    )
    return simulate_json(tmp_path, doc, start=start, cycles=cycles, scenario=scenario)


def main_event(doc: dict[str, Any], cycle: int = 1) -> dict[str, Any]:
    (event,) = [e for e in doc["events"] if e["main"] and e["createdCycle"] == cycle]
    return event


def trail(event: dict[str, Any], status: str = "taskStatus") -> list[tuple[str, bool]]:
    return [(r["step"], r["success"]) for r in event[status]["taskResults"]]


# --- the step graph ---------------------------------------------------------------------------


def test_success_path(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        [
            {"key": "a", "action": "do", "nextStep": "b"},
            {"key": "b", "action": "do", "final": True},
        ],
        cycles=2,
    )
    first = main_event(doc)
    assert first["status"] == "PROCESSED"
    assert first["attempt"] == 1
    assert first["date"] == first["executedAt"] == first["finishedAt"] == D
    assert first["taskStatus"]["lastStep"] == "b"
    assert trail(first) == [("a", True), ("b", True)]
    result = first["taskStatus"]["taskResults"][0]
    assert result["fromCache"] is False
    assert result["correlationId"] == first["correlationId"]
    assert result["httpData"]["request"]["url"] == "https://svc.example.com/call"
    assert result["httpData"]["request"]["method"] == "POST"
    assert result["httpData"]["response"]["status"] == 200
    assert "cachedTaskStatus" not in first and "errorMessage" not in first
    assert main_event(doc, 2)["date"] == "2026-01-07T09:00:00+00:00"
    assert doc["instance"]["cycle"] == 2


def test_final_ends_the_task_before_any_rule(tmp_path: Path) -> None:
    steps = [
        {
            "key": "a",
            "action": "do",
            "final": True,
            "nextStepRules": [{"if": "callback", "ifCallback": "goOn", "nextStep": "b"}],
        },
        {"key": "b", "action": "do", "final": True},
    ]
    event = main_event(run(tmp_path, steps, {"callbacks": {"goOn": True}}))
    assert event["status"] == "PROCESSED"
    assert trail(event) == [("a", True)]


def test_implicit_end(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, [{"key": "a", "action": "do"}]))
    assert event["status"] == "PROCESSED"
    assert event["taskStatus"] == {
        "lastStep": "a",
        "taskResults": event["taskStatus"]["taskResults"],
    }
    assert trail(event) == [("a", True)]


def test_routing_step_without_action_succeeds(tmp_path: Path) -> None:
    steps = [{"key": "route", "nextStep": "b"}, {"key": "b", "action": "do", "final": True}]
    event = main_event(run(tmp_path, steps, {"outcomes": {"t.route": "fail"}}))
    assert trail(event) == [("route", True), ("b", True)]


CALLBACK_STEPS = [
    {
        "key": "a",
        "action": "do",
        "nextStep": "normal",
        "nextStepRules": [
            {"if": "callback", "ifCallback": "isGold", "nextStep": "gold"},
            {"if": "callback", "ifCallback": "isVip", "nextStep": "vip"},
        ],
    },
    {"key": "normal", "action": "do", "final": True},
    {"key": "gold", "action": "do", "final": True},
    {"key": "vip", "action": "do", "final": True},
]


def test_next_step_rules_callback_true_and_false(tmp_path: Path) -> None:
    scenario = {"callbacks": {"isVip": [True, False, True], "isGold": [False, False, True]}}
    doc = run(tmp_path, CALLBACK_STEPS, scenario, cycles=3)
    assert [main_event(doc, n)["taskStatus"]["lastStep"] for n in (1, 2, 3)] == [
        "vip",  # isGold false, isVip true
        "normal",  # both false: nextStep
        "gold",  # the first rule whose callback is true wins
    ]


def test_unknown_callback_uses_its_default(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, CALLBACK_STEPS))
    assert event["taskStatus"]["lastStep"] == "normal"


ERROR_STEPS = [
    {
        "key": "a",
        "action": "do",
        "nextStep": "b",
        "nextStepRules": [{"if": "onError", "nextStep": "handle"}],
    },
    {"key": "b", "action": "do", "final": True},
    {"key": "handle", "action": "do", "final": True},
]


def test_on_error_branch_handles_the_failure(tmp_path: Path) -> None:
    event = main_event(
        run(tmp_path, ERROR_STEPS, {"outcomes": {"t.a": "fail"}}, retry={"times": 3})
    )
    assert event["status"] == "PROCESSED"
    assert event["attempt"] == 1  # handled: no retry
    assert trail(event) == [("a", False), ("handle", True)]
    assert event["taskStatus"]["taskResults"][0]["message"] == "scripted failure"


def test_on_error_branch_not_taken_on_success(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, ERROR_STEPS))
    assert trail(event) == [("a", True), ("b", True)]


def test_optional_step_failing_continues(tmp_path: Path) -> None:
    steps = [
        {"key": "a", "action": "do", "optional": True, "nextStep": "b"},
        {"key": "b", "action": "do", "final": True},
    ]
    event = main_event(run(tmp_path, steps, {"outcomes": {"t.a": {"ok": False, "status": 503}}}))
    assert event["status"] == "PROCESSED"
    assert event["attempt"] == 1
    assert trail(event) == [("a", False), ("b", True)]
    assert event["taskStatus"]["taskResults"][0]["httpData"]["response"]["status"] == 503


# --- retries ----------------------------------------------------------------------------------

ALWAYS_FAIL = {"outcomes": {"t.a": "fail"}}


def test_step_retry_config_overrides_the_tasks(tmp_path: Path) -> None:
    steps = [{"key": "a", "action": "do", "final": True, "retryConfig": {"times": 3}}]
    event = main_event(run(tmp_path, steps, ALWAYS_FAIL, retry={"times": 1}))
    assert event["status"] == "FAILED"
    assert event["attempt"] == 4


def test_task_retry_config_applies_to_steps_without_one(tmp_path: Path) -> None:
    steps = [
        {"key": "a", "action": "do", "nextStep": "b", "retryConfig": {"times": 3}},
        {"key": "b", "action": "do", "final": True},
    ]
    event = main_event(run(tmp_path, steps, {"outcomes": {"t.b": "fail"}}, retry={"times": 1}))
    assert event["status"] == "FAILED"
    assert event["attempt"] == 2  # b failed: the task's policy (times 1) applies


@pytest.mark.parametrize("times", [0, 1, 2, 3])
def test_times_limits_the_attempts(tmp_path: Path, times: int) -> None:
    steps = [{"key": "a", "action": "do", "final": True}]
    failed = main_event(run(tmp_path, steps, ALWAYS_FAIL, retry={"times": times}))
    assert failed["status"] == "FAILED"
    assert failed["attempt"] == times + 1  # attempt k is followed by another while k <= times
    scenario = {"outcomes": {"t.a": ["fail"] * times + ["ok"]}}
    done = main_event(run(tmp_path, steps, scenario, retry={"times": times}))
    assert done["status"] == "PROCESSED"
    assert done["attempt"] == times + 1


def test_no_retry_config_means_one_attempt(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, [{"key": "a", "action": "do", "final": True}], ALWAYS_FAIL))
    assert event["status"] == "FAILED"
    assert event["attempt"] == 1


H1 = {"unit": "hours", "amount": 1}
H3 = {"unit": "hours", "amount": 3}
M10 = {"unit": "minutes", "amount": 10}
CB = {"unit": "minutes", "amount": 10, "retryEventCallback": "backoff"}


@pytest.mark.parametrize(
    ("retry", "failures", "callbacks", "expected"),
    [
        pytest.param(
            {"times": 3, "retryStrategy": [H1, H3]},
            1,
            {},
            "2026-01-06T10:00:00+00:00",
            id="strategy-1st",
        ),
        pytest.param(
            {"times": 3, "retryStrategy": [H1, H3]},
            2,
            {},
            "2026-01-06T13:00:00+00:00",
            id="strategy-2nd",
        ),
        pytest.param(
            {"times": 3, "retryStrategy": [H1, H3]},
            3,
            {},
            "2026-01-06T16:00:00+00:00",
            id="strategy-last-repeats",
        ),
        pytest.param(
            {"times": 3, "retryAfter": M10}, 2, {}, "2026-01-06T09:20:00+00:00", id="retry-after"
        ),
        pytest.param(
            {"times": 3, "retryAfter": M10, "retryStrategy": [H1]},
            1,
            {},
            "2026-01-06T10:00:00+00:00",
            id="strategy-beats-retry-after",
        ),
        pytest.param(
            {"times": 3, "retryAfter": CB, "retryStrategy": [H1]},
            1,
            {"backoff": {"unit": "hours", "amount": 2}},
            "2026-01-06T11:00:00+00:00",
            id="callback-delay-beats-strategy",
        ),
        pytest.param(
            {"times": 3, "retryAfter": CB, "retryStrategy": [H1]},
            2,
            {"backoff": [{"unit": "hours", "amount": 1}, 45]},
            "2026-01-06T10:45:00+00:00",
            id="callback-minutes",
        ),
        pytest.param(
            {"times": 3, "retryAfter": CB, "retryStrategy": [H3]},
            1,
            {"backoff": None},
            "2026-01-06T12:00:00+00:00",
            id="callback-null-falls-back",
        ),
        pytest.param(
            {"times": 3, "retryAfter": CB},
            1,
            {},
            "2026-01-06T09:10:00+00:00",
            id="callback-unset-uses-retry-after",
        ),
        pytest.param({"times": 3}, 2, {}, D, id="no-delay-is-zero"),
    ],
)
def test_retry_delay_precedence(
    tmp_path: Path, retry: dict[str, Any], failures: int, callbacks: dict[str, Any], expected: str
) -> None:
    scenario = {"outcomes": {"t.a": ["fail"] * failures + ["ok"]}, "callbacks": callbacks}
    event = main_event(
        run(tmp_path, [{"key": "a", "action": "do", "final": True}], scenario, retry=retry)
    )
    assert event["status"] == "PROCESSED"
    assert event["attempt"] == failures + 1
    assert event["date"] == event["executedAt"] == event["finishedAt"] == expected
    assert event["scheduleDelta"] == 0


def test_retry_delay_in_days_is_calendar_time(tmp_path: Path) -> None:
    scenario = {"outcomes": {"t.a": ["fail", "ok"]}}
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        scenario,
        retry={"times": 1, "retryAfter": {"unit": "days", "amount": 1}},
        tz="Europe/Berlin",
        start="2026-03-27T09:00:00+01:00",
    )
    event = main_event(doc)
    assert event["executedAt"] == "2026-03-29T09:00:00+02:00"  # 23 h after the failure, not 24


BEFORE_RETRY = [
    {
        "key": "a",
        "action": "do",
        "final": True,
        "nextStepRules": [{"if": "onBeforeRetry", "nextStep": "prep"}],
    },
    {"key": "prep", "action": "do", "final": True},
]


def test_on_before_retry_runs_before_each_retry(tmp_path: Path) -> None:
    scenario = {
        "outcomes": {
            "t.a": ["fail", "fail", "ok"],
            "t.prep": [{"ok": True, "body": {"n": 1}}, {"ok": True, "body": {"n": 2}}],
        }
    }
    event = main_event(run(tmp_path, BEFORE_RETRY, scenario, retry={"times": 2}))
    assert event["status"] == "PROCESSED"
    assert trail(event) == [("a", True)]
    # the attempt before the last one failed, then prep ran (its second run)
    assert trail(event, "cachedTaskStatus") == [("a", False), ("prep", True)]
    assert event["cachedTaskStatus"]["taskResults"][1]["data"] == {"n": 2}


def test_on_before_retry_does_not_run_when_no_retry_remains(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, BEFORE_RETRY, ALWAYS_FAIL, retry={"times": 1}))
    assert event["status"] == "FAILED"
    assert trail(event) == [("a", False)]
    assert trail(event, "cachedTaskStatus") == [("a", False), ("prep", True)]


def test_pause_before_cancel(tmp_path: Path) -> None:
    steps = [
        {
            "key": "a",
            "action": "do",
            "final": True,
            "nextStepRules": [{"if": "onBeforePause", "nextStep": "warn"}],
        },
        {"key": "warn", "action": "do", "final": True},
    ]
    doc = run(
        tmp_path,
        steps,
        ALWAYS_FAIL,
        retry={"times": 1, "pauseBeforeCancel": True, "retryAfter": H1},
        cycles=3,
        onCreateTasks=[{"task": "later", "delayBy": {"unit": "days", "amount": 30}}],
        onCancelTasks=[{"task": "closing"}],
    )
    event = main_event(doc)
    assert event["status"] == "PAUSED"
    assert event["attempt"] == 2
    assert event["errorMessage"] == "scripted failure"
    assert trail(event) == [("a", False), ("warn", True)]
    assert doc["instance"]["status"] == "PAUSED"
    assert "cancelReason" not in doc["instance"]
    assert [e["status"] for e in events(doc, "later")] == ["PAUSED"]
    assert events(doc, "closing") == []
    assert doc["instance"]["cycle"] == 1


def test_main_failure_cancels_the_instance(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        ALWAYS_FAIL,
        retry={"times": 1, "retryAfter": H1},
        cycles=3,
        onCreateTasks=[{"task": "later", "delayBy": {"unit": "days", "amount": 30}}],
        onCancelTasks=[{"task": "closing", "delayBy": H1}, {"task": "audit"}],
    )
    event = main_event(doc)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == "scripted failure"
    assert event["finishedAt"] == "2026-01-06T10:00:00+00:00"
    assert doc["instance"]["status"] == "CANCELED"
    assert doc["instance"]["cancelReason"] == "MAX_ATTEMPTS"
    (later,) = events(doc, "later")
    assert (later["status"], later["cancelReason"]) == ("CANCELED", "CANCEL_INSTANCE")
    (closing,) = events(doc, "closing")
    (audit,) = events(doc, "audit")
    assert closing["date"] == "2026-01-06T11:00:00+00:00"
    assert audit["date"] == "2026-01-06T10:00:00+00:00"
    for item in (closing, audit):
        assert item["afterCancellation"] is True
        assert item["main"] is False
        assert item["createdCycle"] == 1
        assert item["status"] == "PROCESSED"  # they still run on a cancelled instance
    assert doc["instance"]["cycle"] == 1
    assert "nextEvent" not in doc["instance"]


def test_non_main_failure_does_not_cancel(tmp_path: Path) -> None:
    cals = [
        {
            "key": "daily",
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "t",
            "leadingUpTasks": [{"task": "warn", "scheduleBefore": {"unit": "hours", "amount": 2}}],
        }
    ]
    warn = task([{"key": "w", "action": "do", "final": True}], key="warn")
    scenario = {"outcomes": {"warn.w": "fail", "hello.w": "fail"}}
    hello = task([{"key": "w", "action": "do", "final": True}], key="hello")
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        scenario,
        cycles=2,
        calendars=cals,
        tasks=[warn, hello],
        onCreateTasks=[{"task": "hello"}],
    )
    assert [e["status"] for e in events(doc, "warn")] == ["FAILED", "FAILED"]
    assert [e["status"] for e in events(doc, "hello")] == ["FAILED"]
    assert all(e["errorMessage"] == "scripted failure" for e in events(doc, "warn"))
    assert [e["status"] for e in events(doc, "t")] == ["PROCESSED", "PROCESSED"]
    assert doc["instance"]["status"] == "ACTIVE"
    assert doc["instance"]["cycle"] == 2


# --- caching and attempts ---------------------------------------------------------------------


def _cached_steps(repeat: bool) -> list[dict[str, Any]]:
    return [
        {"key": "a", "action": "do", "nextStep": "b", "repeatOnRetry": repeat},
        {"key": "b", "action": "do", "final": True},
    ]


CACHE_SCENARIO = {
    "outcomes": {
        "t.a": [
            {"ok": True, "body": {"token": "first"}},
            {"ok": True, "body": {"token": "second"}},
        ],
        "t.b": ["fail", "ok"],
    }
}


def test_succeeded_steps_are_cached_on_retry(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, _cached_steps(False), CACHE_SCENARIO, retry={"times": 1}))
    assert event["status"] == "PROCESSED"
    a, b = event["taskStatus"]["taskResults"]
    assert (a["step"], a["fromCache"], a["data"]) == ("a", True, {"token": "first"})
    assert (b["step"], b["fromCache"], b["success"]) == ("b", False, True)
    cached = event["cachedTaskStatus"]
    assert cached["lastStep"] == "b"
    assert [(r["step"], r["success"], r["fromCache"]) for r in cached["taskResults"]] == [
        ("a", True, False),
        ("b", False, False),
    ]


def test_repeat_on_retry_executes_again(tmp_path: Path) -> None:
    event = main_event(run(tmp_path, _cached_steps(True), CACHE_SCENARIO, retry={"times": 1}))
    a, _ = event["taskStatus"]["taskResults"]
    assert (a["fromCache"], a["data"]) == (False, {"token": "second"})


@pytest.mark.parametrize(("reset", "attempt"), [(True, 0), (False, 3)])
def test_reset_attempts(tmp_path: Path, reset: bool, attempt: int) -> None:
    steps = [{"key": "a", "action": "do", "final": True, "resetAttempts": reset}]
    event = main_event(
        run(tmp_path, steps, {"outcomes": {"t.a": ["fail", "fail", "ok"]}}, retry={"times": 2})
    )
    assert event["status"] == "PROCESSED"
    assert event["attempt"] == attempt


@pytest.mark.parametrize(
    ("reset", "status", "executed"),
    [
        (True, "PROCESSED", "2026-01-06T12:00:00+00:00"),
        (False, "FAILED", "2026-01-06T10:00:00+00:00"),
    ],
)
def test_reset_attempts_grants_fresh_retries(
    tmp_path: Path, reset: bool, status: str, executed: str
) -> None:
    steps = [
        {
            "key": "probe",
            "action": "do",
            "nextStep": "pay",
            "resetAttempts": reset,
            "repeatOnRetry": True,
        },
        {"key": "pay", "action": "do", "final": True},
    ]
    scenario = {"outcomes": {"t.pay": ["fail", "fail", "fail", "ok"]}}
    event = main_event(run(tmp_path, steps, scenario, retry={"times": 1, "retryAfter": H1}))
    assert event["status"] == status
    assert event["executedAt"] == executed


# --- asynchronous methods, manual triggers, controllers ----------------------------------------

ASYNC_STEPS = [
    {"key": "a", "action": "wait", "nextStep": "b"},
    {"key": "b", "action": "do", "final": True},
]


def test_async_method_is_resumed_with_scenario_data(tmp_path: Path) -> None:
    scenario = {
        "resume": {"t.a": {"after": {"unit": "hours", "amount": 2}, "data": {"approved": True}}}
    }
    event = main_event(run(tmp_path, ASYNC_STEPS, scenario))
    assert event["status"] == "PROCESSED"
    assert trail(event) == [("a", True), ("b", True)]
    assert event["taskStatus"]["taskResults"][0]["afterResumeData"] == {"approved": True}
    assert event["finishedAt"] == "2026-01-06T11:00:00+00:00"
    assert event["resumeStrategyVersion"] == 1


def test_resume_controller_callback_result_is_stored(tmp_path: Path) -> None:
    steps = [dict(ASYNC_STEPS[0], resumeControllerCallback="onKyc"), ASYNC_STEPS[1]]
    scenario = {
        "resume": {"t.a": {"data": {"approved": True}}},
        "callbacks": {"onKyc": {"decision": "approve"}},
    }
    event = main_event(run(tmp_path, steps, scenario))
    assert event["status"] == "PROCESSED"
    assert event["taskStatus"]["taskResults"][0]["afterResumeData"] == {"decision": "approve"}
    assert event["finishedAt"] == D  # no `after`: resumed at once


def test_manual_trigger_hold_keeps_events_on_hold(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        {"manual": "hold"},
        cycles=3,
        config={"manualTrigger": True},
    )
    assert [e["status"] for e in doc["events"]] == ["ONHOLD"]
    assert doc["instance"]["cycle"] == 1
    assert doc["instance"]["nextEvent"] == {"sid": doc["events"][0]["sid"], "date": D}


def test_manual_trigger_default_runs_at_the_date(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        cycles=2,
        config={"manualTrigger": True},
    )
    assert [e["status"] for e in doc["events"]] == ["PROCESSED", "PROCESSED"]
    assert dates(doc, "t") == [D, "2026-01-07T09:00:00+00:00"]


def test_manual_trigger_on_a_lifecycle_item(tmp_path: Path) -> None:
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        {"manual": "hold"},
        onCreateTasks=[{"task": "hello", "manualTrigger": True}],
        tasks=[task([{"key": "h", "action": "do", "final": True}], key="hello")],
    )
    assert [e["status"] for e in events(doc, "hello")] == ["ONHOLD"]
    assert main_event(doc)["status"] == "PROCESSED"


def test_controller_asks_to_cancel_the_instance(tmp_path: Path) -> None:
    steps = [
        {"key": "decide", "controller": "decide", "nextStep": "b"},
        {"key": "b", "action": "do", "final": True},
    ]
    doc = run(
        tmp_path,
        steps,
        {"callbacks": {"decide": {"overrides": {"cancelInstance": True}}}},
        cycles=3,
        onCreateTasks=[{"task": "later", "delayBy": {"unit": "days", "amount": 30}}],
        onCancelTasks=[{"task": "closing"}],
    )
    assert doc["instance"]["status"] == "CANCELED"
    assert doc["instance"]["cancelReason"] == "CONTROLLER_HELPER"
    event = main_event(doc)
    assert trail(event) == [("decide", True)]
    assert event["taskStatus"]["taskResults"][0]["overrides"] == {"cancelInstance": True}
    (later,) = events(doc, "later")
    assert (later["status"], later["cancelReason"]) == (
        "CANCELED",
        "INSTANCE_CANCEL_TASK_REQUESTED",
    )
    (closing,) = events(doc, "closing")
    assert (closing["afterCancellation"], closing["status"], closing["date"]) == (
        True,
        "PROCESSED",
        D,
    )
    assert doc["instance"]["cycle"] == 1
    assert [e["task"] for e in doc["events"] if e["main"]] == ["t"]


def test_controller_overrides_merge_attributes(tmp_path: Path) -> None:
    steps = [{"key": "decide", "controller": "decide", "final": True}]
    doc = run(
        tmp_path, steps, {"callbacks": {"decide": {"overrides": {"attributes": {"tier": "gold"}}}}}
    )
    assert doc["instance"]["attributes"] == {"tier": "gold"}


def test_controller_returning_false_fails_the_step(tmp_path: Path) -> None:
    steps = [{"key": "decide", "controller": "decide", "final": True}]
    event = main_event(run(tmp_path, steps, {"callbacks": {"decide": False}}))
    assert event["status"] == "FAILED"
    assert trail(event) == [("decide", False)]


def test_response_validation_fails_on_a_scripted_body(tmp_path: Path) -> None:
    steps = [{"key": "a", "action": "check", "final": True}]
    bad = main_event(
        run(tmp_path, steps, {"outcomes": {"t.a": {"ok": True, "body": {"chargeId": 5}}}})
    )
    assert bad["status"] == "FAILED"
    (result,) = bad["taskStatus"]["taskResults"]
    assert result["success"] is False
    assert "responseValidation" in result["message"]
    assert result["httpData"]["response"]["body"] == {"chargeId": 5}
    assert "responseValidation" in bad["errorMessage"]
    good = main_event(
        run(tmp_path, steps, {"outcomes": {"t.a": {"ok": True, "body": {"chargeId": "c-1"}}}})
    )
    assert good["status"] == "PROCESSED"


# --- which calendar, which date ---------------------------------------------------------------


def test_run_on_cycle_callback_and_next_cycle_date_callback(tmp_path: Path) -> None:
    cals = [
        {
            "key": "first",
            "runOnCycle": 1,
            "scheduleAfter": {"unit": "days", "amount": 0},
            "task": "t",
        },
        {
            "key": "special",
            "runOnCycleCallback": "isSpecial",
            "nextCycleDateCallback": "when",
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "special",
        },
        {"key": "monthly", "scheduleAfter": {"unit": "months", "amount": 1}, "task": "t"},
    ]
    scenario = {
        "callbacks": {
            "isSpecial": [False, True, False, True],
            "when": ["2026-06-01T10:00:00+02:00", None],
        }
    }
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        scenario,
        cycles=5,
        calendars=cals,
        tz="Europe/Berlin",
        start="2026-01-15T10:00:00+01:00",
        tasks=[task([{"key": "s", "action": "do", "final": True}], key="special")],
    )
    assert [(e["task"], e["date"]) for e in doc["events"]] == [
        ("t", "2026-01-15T10:00:00+01:00"),
        ("t", "2026-02-15T10:00:00+01:00"),  # isSpecial false: the default calendar
        ("special", "2026-06-01T10:00:00+02:00"),  # the callback's date
        ("t", "2026-07-01T10:00:00+02:00"),  # one month after the callback's date
        ("special", "2026-07-02T10:00:00+02:00"),  # callback returned null: scheduleAfter
    ]
    assert [e["createdCycle"] for e in doc["events"]] == [1, 2, 3, 4, 5]


def test_calendar_without_a_task_advances_by_date(tmp_path: Path) -> None:
    cals = [
        {
            "key": "wait",
            "runOnCycle": 1,
            "scheduleAfter": {"unit": "days", "amount": 10},
            "leadingUpTasks": [
                {"task": "heads-up", "scheduleBefore": {"unit": "days", "amount": 2}}
            ],
        },
        {"key": "monthly", "scheduleAfter": {"unit": "months", "amount": 1}, "task": "t"},
    ]
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        cycles=3,
        calendars=cals,
        start="2026-01-01T09:00:00Z",
        tasks=[task([{"key": "h", "action": "do", "final": True}], key="heads-up")],
    )
    assert [(e["task"], e["date"], e["createdCycle"]) for e in doc["events"]] == [
        ("heads-up", "2026-01-09T09:00:00+00:00", 1),
        ("t", "2026-02-11T09:00:00+00:00", 2),
        ("t", "2026-03-11T09:00:00+00:00", 3),
    ]
    assert doc["instance"]["cycle"] == 3
    assert doc["instance"]["executionDate"] == "2026-03-11T09:00:00+00:00"


def test_cycle_date_error_cancels_with_create_cycle_error(tmp_path: Path) -> None:
    cals = [
        {
            "key": "first",
            "runOnCycle": 1,
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "t",
        },
        {
            "key": "next",
            "nextCycleDateCallback": "when",
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "t",
        },
    ]
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        {"callbacks": {"when": "next tuesday"}},
        cycles=3,
        calendars=cals,
        onCancelTasks=[{"task": "bye"}],
    )
    assert main_event(doc)["status"] == "PROCESSED"
    assert doc["instance"]["status"] == "CANCELED"
    assert doc["instance"]["cancelReason"] == "CREATE_CYCLE_ERROR"
    assert doc["instance"]["cycle"] == 1
    (bye,) = events(doc, "bye")
    assert (bye["date"], bye["status"], bye["createdCycle"]) == (D, "PROCESSED", 1)


def test_a_late_cycle_runs_at_once_in_date_order(tmp_path: Path) -> None:
    """Cycle 1's main succeeds only on its retry, two days later: cycle 2's dates (one day after
    cycle 1's) are already past when it is created, so its events keep their dates and run at
    once, late, leading-up first; nothing runs before it was created."""
    cals = [
        {
            "key": "daily",
            "scheduleAfter": {"unit": "days", "amount": 1},
            "task": "t",
            "leadingUpTasks": [{"task": "lead", "scheduleBefore": {"unit": "hours", "amount": 12}}],
        }
    ]
    doc = run(
        tmp_path,
        [{"key": "a", "action": "do", "final": True}],
        {"outcomes": {"t.a": ["fail", "ok"]}},
        retry={"times": 1, "retryAfter": {"unit": "days", "amount": 2}},
        cycles=3,
        calendars=cals,
        tasks=[task([{"key": "l", "action": "do", "final": True}], key="lead")],
    )
    rows = [
        (e["task"], e["createdCycle"], e["date"], e["executedAt"], e["scheduleDelta"])
        for e in doc["events"]
    ]
    assert rows == [
        ("lead", 1, "2026-01-05T21:00:00+00:00", "2026-01-05T21:00:00+00:00", 0),
        ("lead", 2, "2026-01-06T21:00:00+00:00", "2026-01-08T09:00:00+00:00", 36 * 3600_000),
        ("t", 2, "2026-01-07T09:00:00+00:00", "2026-01-08T09:00:00+00:00", 24 * 3600_000),
        ("lead", 3, "2026-01-07T21:00:00+00:00", "2026-01-08T09:00:00+00:00", 12 * 3600_000),
        ("t", 1, "2026-01-08T09:00:00+00:00", "2026-01-08T09:00:00+00:00", 0),
        ("t", 3, "2026-01-08T09:00:00+00:00", "2026-01-08T09:00:00+00:00", 0),
    ]
    assert all(e["status"] == "PROCESSED" for e in doc["events"])
