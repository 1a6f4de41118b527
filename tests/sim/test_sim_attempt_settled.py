"""The settled details of attempts (docs/semantics.md section 6), each against the behaviour it
replaced: a reset never re-runs a step that succeeded, any earlier success is reused, the side
step that ran is the lastStep, and no retryConfig is exactly `times: 0`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_sim_scenarios import main_event, run, trail

# charge succeeds once; reset marks the attempt counter back; then `confirm` keeps failing.
RESET_STEPS: list[dict[str, Any]] = [
    {"key": "charge", "action": "do", "nextStep": "reset"},
    {"key": "reset", "resetAttempts": True, "nextStep": "confirm"},
    {"key": "confirm", "action": "do", "final": True},
]


def test_after_a_reset_a_step_that_succeeded_is_not_sent_again(tmp_path: Path) -> None:
    scenario = {"outcomes": {"t.confirm": ["fail", "fail", "ok"], "t.charge": ["ok", "fail"]}}
    event = main_event(run(tmp_path, RESET_STEPS, scenario, retry={"times": 0}))
    assert event["status"] == "PROCESSED"
    # The charge ran once: its second scripted outcome (fail) was never consumed.
    assert [(r["step"], r["fromCache"]) for r in event["taskStatus"]["taskResults"]] == [
        ("charge", True),
        ("reset", True),
        ("confirm", False),
    ]
    assert "cachedTaskStatus" in event  # a reset attempt is still a retry


def test_a_success_of_any_earlier_attempt_is_reused(tmp_path: Path) -> None:
    """Attempt 1 charges and fails later; attempt 2 fails before reaching the charge (a routing
    callback sends it elsewhere); attempt 3 reaches the charge again: reused, not re-sent."""
    steps = [
        {
            "key": "route",
            "nextStep": "charge",
            "nextStepRules": [{"if": "callback", "ifCallback": "detour", "nextStep": "side"}],
        },
        {"key": "side", "action": "do", "final": True},
        {"key": "charge", "action": "do", "nextStep": "confirm"},
        {"key": "confirm", "action": "do", "final": True},
    ]
    scenario = {
        "callbacks": {"detour": [False, True, False]},
        "outcomes": {"t.charge": ["ok", "fail"], "t.side": "fail", "t.confirm": ["fail", "ok"]},
    }
    event = main_event(run(tmp_path, steps, scenario, retry={"times": 2}))
    assert event["status"] == "PROCESSED" and event["attempt"] == 3
    assert [(r["step"], r["fromCache"]) for r in event["taskStatus"]["taskResults"]] == [
        ("route", True),
        ("charge", True),
        ("confirm", False),
    ]


def side_step(kind: str, key: str) -> list[dict[str, Any]]:
    """`charge`, whose `kind` rule (onBeforeRetry/onBeforePause) runs step `key`."""
    rule = {"if": kind, "nextStep": key}
    return [
        {"key": "charge", "action": "do", "final": True, "nextStepRules": [rule]},
        {"key": key, "action": "do", "final": True},
    ]


def test_the_on_before_retry_step_that_ran_is_the_last_step(tmp_path: Path) -> None:
    steps = side_step("onBeforeRetry", "tell")
    scenario = {"outcomes": {"t.charge": ["fail", "ok"]}}
    event = main_event(run(tmp_path, steps, scenario, retry={"times": 1}))
    assert trail(event, "cachedTaskStatus") == [("charge", False), ("tell", True)]
    assert event["cachedTaskStatus"]["lastStep"] == "tell"


def test_the_on_before_pause_step_that_ran_is_the_last_step(tmp_path: Path) -> None:
    steps = side_step("onBeforePause", "escalate")
    retry = {"times": 0, "pauseBeforeCancel": True}
    event = main_event(run(tmp_path, steps, {"outcomes": {"t.charge": "fail"}}, retry=retry))
    assert event["status"] == "PAUSED"
    assert trail(event) == [("charge", False), ("escalate", True)]
    assert event["taskStatus"]["lastStep"] == "escalate"


def test_side_steps_are_never_reused(tmp_path: Path) -> None:
    steps = side_step("onBeforeRetry", "tell")
    scenario = {"outcomes": {"t.charge": ["fail", "fail", "ok"], "t.tell": ["ok", "fail"]}}
    event = main_event(run(tmp_path, steps, scenario, retry={"times": 2}))
    # The second onBeforeRetry ran again (and failed) rather than reusing the first success.
    assert trail(event, "cachedTaskStatus") == [("charge", False), ("tell", False)]


def test_no_retry_config_is_exactly_times_zero(tmp_path: Path) -> None:
    scenario = {"outcomes": {"t.confirm": ["fail", "fail", "ok"]}}
    none = main_event(run(tmp_path, RESET_STEPS, scenario))
    (tmp_path / "zero").mkdir()
    zero = main_event(run(tmp_path / "zero", RESET_STEPS, scenario, retry={"times": 0}))
    keep = ("status", "attempt", "date", "finishedAt")
    assert {k: none[k] for k in keep} == {k: zero[k] for k in keep}
    assert none["status"] == "PROCESSED"
    assert trail(none) == trail(zero)
