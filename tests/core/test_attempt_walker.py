"""`core.attempt` on its own: the walk over a task's steps with a scripted executor and scripted
callbacks (no I/O), so that each rule of SEMANTICS.md section 5 is pinned by one small case."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from strategy_cli.core.attempt import (
    MAX_STEPS_PER_ATTEMPT,
    AttemptResult,
    StepCall,
    StepOutcome,
    Walker,
    outcome_from_value,
    run_controller,
    steps_view,
)
from strategy_cli.core.callbacks import CallbackError
from strategy_cli.core.models import Task


class Script:
    """An executor answering each step from a table (default: success), recording the calls."""

    def __init__(self, **outcomes: StepOutcome) -> None:
        self.outcomes = outcomes
        self.calls: list[str] = []
        self.contexts: list[dict[str, Any]] = []

    def execute(self, call: StepCall, callbacks: Any) -> StepOutcome:
        self.calls.append(call.step.key)
        self.contexts.append(call.context())
        return self.outcomes.get(call.step.key.replace("-", "_"), StepOutcome(True))


class Answers:
    """Callbacks answering from a table by name; an exception in the table is raised."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, Mapping[str, Any]]] = []

    def call(self, name: str, kind: str, context: Mapping[str, Any]) -> Any:
        self.calls.append((name, kind, context))
        answer = self.answers.get(name)
        if isinstance(answer, Exception):
            raise answer
        return answer


def task(*steps: dict[str, Any], initial: str = "a") -> Task:
    return Task.model_validate({"key": "t", "steps": list(steps), "initialStep": initial})


def act(key: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "action": "do", **more}


def walk(
    t: Task, script: Script | None = None, answers: Answers | None = None, **event: Any
) -> AttemptResult:
    instance = {"attributes": {"x": 1}, "cycle": 2}
    return Walker(t, script or Script(), answers or Answers()).attempt(event, instance)


def trail(result: AttemptResult) -> list[tuple[str, bool]]:
    return [(r["step"], r["success"]) for r in result.results]


def test_a_linear_walk_succeeds_at_the_final_step() -> None:
    script = Script()
    result = walk(task(act("a", nextStep="b"), act("b", final=True, nextStep="a")), script)
    assert (result.status, result.last_step, result.message) == ("success", "b", None)
    assert trail(result) == [("a", True), ("b", True)]
    assert script.calls == ["a", "b"]  # final stops the walk even with a nextStep
    assert result.results[0] == {"step": "a", "success": True, "fromCache": False}


def test_a_failing_step_fails_the_attempt_with_its_message() -> None:
    script = Script(a=StepOutcome(False, message="HTTP 500"))
    result = walk(task(act("a", nextStep="b"), act("b", final=True)), script)
    assert (result.status, result.failed_step.key, result.message) == ("failed", "a", "HTTP 500")  # type: ignore[union-attr]
    assert script.calls == ["a"]
    result = walk(task(act("a")), Script(a=StepOutcome(False)))
    assert result.message == "step 'a' failed"


def test_on_error_leads_to_its_step_and_an_empty_handler_fails() -> None:
    rules = [{"if": "onBeforeRetry", "nextStep": "c"}, {"if": "onError", "nextStep": "b"}]
    t = task(act("a", nextStepRules=rules, final=True), act("b", final=True), act("c"))
    result = walk(t, Script(a=StepOutcome(False)))
    assert (result.status, trail(result)) == ("success", [("a", False), ("b", True)])
    t = task(act("a", nextStepRules=[{"if": "onError"}], final=True))
    assert walk(t, Script(a=StepOutcome(False, message="m"))).message == "m"


def test_an_optional_step_fails_and_the_walk_goes_on() -> None:
    t = task(act("a", optional=True, resetAttempts=True, nextStep="b"), act("b", final=True))
    result = walk(t, Script(a=StepOutcome(False)))
    assert (result.status, trail(result)) == ("success", [("a", False), ("b", True)])
    assert result.reset_attempts is False  # only a success resets the attempts
    assert walk(t).reset_attempts is True


def test_a_held_step_waits_and_a_failed_hold_is_a_failure() -> None:
    t = task(act("a", nextStep="b"), act("b", final=True))
    held = walk(t, Script(a=StepOutcome(True, hold=True)))
    assert (held.status, held.last_step, trail(held)) == ("hold", "a", [("a", True)])
    failed = walk(t, Script(a=StepOutcome(False, hold=True)))
    assert failed.status == "failed"


def test_overrides_choose_the_next_step_merge_attributes_and_cancel() -> None:
    t = task(act("a", nextStep="b"), act("b", final=True), act("c", final=True))
    chosen = walk(t, Script(a=StepOutcome(True, overrides={"nextStep": "c"})))
    assert trail(chosen) == [("a", True), ("c", True)]
    assert chosen.results[0]["overrides"] == {"nextStep": "c"}
    for ignored in ({"nextStep": ""}, {"nextStep": 3}, {}):
        assert trail(walk(t, Script(a=StepOutcome(True, overrides=ignored))))[-1] == ("b", True)
    merged = walk(t, Script(a=StepOutcome(True, overrides={"attributes": {"y": 2}})))
    assert merged.attributes == {"y": 2}
    cancelled = walk(t, Script(a=StepOutcome(False, overrides={"cancelInstance": True})))
    assert (cancelled.cancel_instance, cancelled.status, trail(cancelled)) == (
        True,
        "success",
        [("a", False)],
    )
    for no in ({"cancelInstance": "yes"}, ["cancelInstance"]):
        assert not walk(t, Script(a=StepOutcome(True, overrides=no))).cancel_instance  # type: ignore[arg-type]


def test_overridden_attributes_are_seen_by_later_steps() -> None:
    script = Script(a=StepOutcome(True, overrides={"attributes": {"y": 2}}))
    walk(task(act("a", nextStep="b"), act("b", final=True)), script)
    assert [c["attributes"] for c in script.contexts] == [{"x": 1}, {"x": 1, "y": 2}]


def test_branch_callbacks_pick_the_first_rule_that_answers_yes() -> None:
    rules = [
        {"if": "onError", "nextStep": "x"},
        {"if": "callback", "nextStep": "x"},  # no ifCallback: never asked
        {"if": "callback", "ifCallback": "no", "nextStep": "x"},
        {"if": "callback", "ifCallback": "yes", "nextStep": "c"},
        {"if": "callback", "ifCallback": "also", "nextStep": "x"},
    ]
    t = task(
        act("a", nextStep="b", nextStepRules=rules), act("b", final=True), act("c", final=True)
    )
    answers = Answers(no=0, yes=1, also=True)
    result = walk(t, answers=answers)
    assert trail(result)[-1] == ("c", True)
    assert [(n, k) for n, k, _ in answers.calls] == [("no", "ifCallback"), ("yes", "ifCallback")]
    assert answers.calls[0][2]["steps"]["a"]["success"] is True
    assert trail(walk(t, answers=Answers()))[-1] == ("b", True)


def test_a_branch_callback_that_raises_fails_the_step() -> None:
    rules = [{"if": "callback", "ifCallback": "boom", "nextStep": "c"}]
    t = task(
        act("a", nextStep="b"), act("b", nextStepRules=rules, nextStep="c"), act("c", final=True)
    )
    result = walk(t, answers=Answers(boom=CallbackError("boom failed")))
    assert (result.status, result.failed_step.key, result.message) == ("failed", "b", "boom failed")  # type: ignore[union-attr]
    assert ["message" in r for r in result.results] == [False, True]
    assert result.results[-1]["message"] == "boom failed"


def test_a_missing_step_and_an_endless_loop_fail() -> None:
    missing = walk(task(act("a", nextStep="gone")))
    assert missing.message == "step 'gone' does not exist in task 't'"
    assert missing.failed_step is None
    loop = walk(task(act("a", nextStep="b"), {"key": "b", "nextStep": "a"}))
    assert loop.message == "more than 1000 steps in one attempt"
    assert len(loop.results) == MAX_STEPS_PER_ATTEMPT == 1000


def test_a_step_with_nothing_to_do_routes_without_calling() -> None:
    script = Script()
    result = walk(task({"key": "a", "nextStep": "b"}, act("b", final=True)), script)
    assert trail(result) == [("a", True), ("b", True)]
    assert script.calls == ["b"]


def test_a_retry_reuses_earlier_successes_unless_told_to_repeat() -> None:
    t = task(act("a", nextStep="b"), act("b", nextStep="c", repeatOnRetry=True), act("c"))
    earlier = [
        {"step": "a", "success": True, "data": {"id": 7}},
        {"step": "b", "success": True},
        {"step": "c", "success": False},
    ]
    status = {"taskResults": earlier}
    script = Script()
    result = walk(t, script, attempt=2, taskStatus=status, correlationId="cid-1")
    assert script.calls == ["b", "c"]
    assert result.results[0] == {"step": "a", "success": True, "data": {"id": 7}, "fromCache": True}
    assert result.results[1]["correlationId"] == "cid-1"
    assert script.contexts[0]["steps"]["a"]["data"] == {"id": 7}
    first = Script()
    walk(t, first, attempt=1, taskStatus=status)
    assert first.calls == ["a", "b", "c"]


def test_results_carry_what_the_outcome_says() -> None:
    outcome = StepOutcome(False, data=[1], message="m", httpData={"status": 500})
    result = walk(task(act("a", optional=True)), Script(a=outcome))
    assert result.results == [
        {
            "step": "a",
            "success": False,
            "fromCache": False,
            "message": "m",
            "httpData": {"status": 500},
            "data": [1],
        }
    ]


def resumed(t: Task, answers: Answers, results: list[dict[str, Any]], last: str) -> AttemptResult:
    event = {"taskStatus": {"taskResults": results, "lastStep": last}}
    return Walker(t, Script(), answers).resume(event, {"attributes": {}}, {"paid": True})


def test_resume_continues_after_the_held_step() -> None:
    t = task(act("a", nextStep="b"), act("b", final=True))
    earlier = [{"step": "a", "success": True}]
    result = resumed(t, Answers(), earlier, "a")
    assert (result.status, trail(result)) == ("success", [("a", True), ("b", True)])
    assert result.results[0]["afterResumeData"] == {"paid": True}
    assert earlier == [{"step": "a", "success": True}]  # the stored record is not changed
    ended = resumed(task(act("a", final=True)), Answers(), earlier, "a")
    assert (ended.status, trail(ended)) == ("success", [("a", True)])


def test_resume_asks_the_resume_controller() -> None:
    t = task(act("a", nextStep="b", resumeControllerCallback="rc"), act("b", final=True))
    answers = Answers(rc={"amount": 3})
    result = resumed(t, answers, [{"step": "a", "success": True}], "a")
    assert result.results[0]["afterResumeData"] == {"amount": 3}
    assert answers.calls[0][1] == "resumeControllerCallback"
    assert answers.calls[0][2]["resumeData"] == {"paid": True}
    keep = resumed(t, Answers(rc=None), [{"step": "a", "success": True}], "a")
    assert keep.results[0]["afterResumeData"] == {"paid": True}
    failed = resumed(t, Answers(rc=CallbackError("rc failed")), [], "a")
    assert (failed.status, failed.message, failed.failed_step.key) == ("failed", "rc failed", "a")  # type: ignore[union-attr]


def test_resume_at_an_unknown_step_or_with_a_raising_branch_fails() -> None:
    t = task(act("a", nextStepRules=[{"if": "callback", "ifCallback": "bad", "nextStep": "a"}]))
    lost = resumed(t, Answers(), [], "zz")
    assert (lost.status, lost.message) == ("failed", "cannot resume at step 'zz'")
    bad = resumed(t, Answers(bad=CallbackError("no")), [{"step": "a", "success": True}], "a")
    assert (bad.status, bad.message) == ("failed", "no")
    other = resumed(t, Answers(), [{"step": "b", "success": True}], "a")
    assert "afterResumeData" not in other.results[0]
    # the held step's result is the last one
    two = resumed(
        t, Answers(), [{"step": "b", "success": True}, {"step": "a", "success": True}], "a"
    )
    assert ["afterResumeData" in r for r in two.results] == [False, True]


def test_side_steps_run_the_branch_of_the_failed_step() -> None:
    rules = [{"if": "onBeforeRetry", "nextStep": "notify"}, {"if": "onBeforePause"}]
    t = task(act("a", nextStepRules=rules), act("notify", final=True))
    script = Script(notify=StepOutcome(True, overrides={"cancelInstance": True}))
    walker = Walker(t, script, Answers())
    state = walker.attempt({}, {})
    walker.side_step("onBeforeRetry", t.steps[0], {}, {}, state)
    assert trail(state) == [("a", True), ("notify", True)]
    assert state.cancel_instance is True
    calm = AttemptResult("failed")
    for kind, failed in (("onBeforePause", t.steps[0]), ("onBeforeRetry", None)):
        walker.side_step(kind, failed, {}, {}, calm)
    assert calm.results == [] and calm.cancel_instance is False


@pytest.mark.parametrize(
    ("value", "success", "data", "message"),
    [
        (None, True, None, None),
        (True, True, None, None),
        (False, False, None, "the controller reported failure"),
        ({"success": False, "message": "no"}, False, None, "no"),
        ({"success": None, "data": 5}, True, 5, None),
        ({}, True, None, None),
        (0, True, 0, None),
        ("text", True, "text", None),
    ],
)
def test_a_callback_value_as_an_outcome(value: Any, success: bool, data: Any, message: Any) -> None:
    outcome = outcome_from_value(value)
    assert (outcome.success, outcome.data, outcome.message) == (success, data, message)


def test_overrides_of_a_callback_value_are_kept() -> None:
    assert outcome_from_value({"overrides": {"nextStep": "b"}}).overrides == {"nextStep": "b"}


def test_run_controller_names_the_kind_and_reports_a_raising_callback() -> None:
    t = task({"key": "a", "controller": "c1"}, {"key": "b", "controllerCallback": "c2"})
    answers = Answers(c1=False, c2=CallbackError("c2 broke"))
    instance = {"attributes": None, "cycle": 3}
    call = StepCall(t, t.steps[0], {"id": "e"}, instance, [])
    assert run_controller(call, answers).success is False
    call_b = StepCall(t, t.steps[1], {"id": "e"}, instance, [])
    broke = run_controller(call_b, answers)
    assert (broke.success, broke.message) == (False, "c2 broke")
    assert [(n, k) for n, k, _ in answers.calls] == [
        ("c1", "controller"),
        ("c2", "controllerCallback"),
    ]
    context = answers.calls[0][2]
    assert context == {
        "attributes": {},
        "instance": instance,
        "event": {"id": "e"},
        "steps": {},
        "cycle": 3,
    }


def test_steps_view_shows_data_success_message_and_resume_data() -> None:
    view = steps_view(
        [
            {"step": "a", "success": True, "data": 1, "afterResumeData": {"k": 1}},
            {"step": "b", "success": False},
        ]
    )
    assert view == {
        "a": {"data": 1, "success": True, "message": None, "afterResumeData": {"k": 1}},
        "b": {"data": None, "success": False, "message": None},
    }
