"""`core.engine` on its own: the instance state machine with a scripted executor (no I/O):
retries and their delays, exhaustion, pause before cancel, and the operator actions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from strategy_cli.core.attempt import StepCall, StepOutcome
from strategy_cli.core.callbacks import DEFAULTS, CallbackError
from strategy_cli.core.engine import Engine, InstanceBox, OperationError
from strategy_cli.core.models import RetryDelay, Settings

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
RECORD = {"sid": "s-1", "name": "engine", "version": 4}


class Outcomes:
    """Each step's outcomes in turn (the last one repeats); success when none is given."""

    def __init__(self, *outcomes: bool) -> None:
        self.outcomes = list(outcomes)

    def execute(self, call: StepCall, callbacks: Any) -> StepOutcome:
        ok = self.outcomes.pop(0) if len(self.outcomes) > 1 else (self.outcomes or [True])[0]
        return StepOutcome(ok, message=None if ok else "declined")


class Answers:
    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        self.asked: list[tuple[str, Mapping[str, Any]]] = []

    def call(self, name: str, kind: str, context: Mapping[str, Any]) -> Any:
        self.asked.append((name, context))
        answer = self.answers.get(name, DEFAULTS[kind])
        if callable(answer):  # answers by context
            answer = answer(context)
        if isinstance(answer, Exception):
            raise answer
        return answer


DAILY = {"key": "daily", "scheduleAfter": {"unit": "days", "amount": 1}, "task": "charge"}


def settings(
    retry: dict[str, Any] | None = None, calendars: list[Any] | None = None, **more: Any
) -> Settings:
    task: dict[str, Any] = {
        "key": "charge",
        "steps": [{"key": "go", "action": "do", "final": True}],
        "initialStep": "go",
    }
    if retry is not None:
        task["retryConfig"] = retry
    return Settings.model_validate(
        {
            "config": more.pop("config", {"timezone": "UTC"}),
            "schedule": {"calendars": calendars or [DAILY]},
            "services": [],
            "actions": [],
            "tasks": [task, {**task, "key": "notify"}],
            **more,
        }
    )


def make(
    retry: dict[str, Any] | None = None, answers: Answers | None = None, **more: Any
) -> tuple[Engine, InstanceBox]:
    engine = Engine(RECORD, settings(retry, **more), answers or Answers())
    return engine, engine.create({"loan": "L-1"}, T0, now=T0)


def main_event(box: InstanceBox, cycle: int | None = None) -> dict[str, Any]:
    cycle = box.instance["cycle"] if cycle is None else cycle
    return next(e for e in box.ordered_events() if e["main"] and e["createdCycle"] == cycle)


def at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["date"])


def test_create_schedules_cycle_one_and_states_the_next_event() -> None:
    _, box = make()
    inst = box.instance
    assert (inst["status"], inst["cycle"], inst["strategyId"]) == ("ACTIVE", 1, "s-1")
    assert (inst["startDate"], inst["executionDate"]) == (
        "2026-03-02T09:00:00+00:00",
        "2026-03-03T09:00:00+00:00",
    )
    event = main_event(box)
    assert (event["status"], event["date"], event["attempt"]) == (
        "PENDING",
        inst["executionDate"],
        0,
    )
    assert inst["nextEvent"] == {"sid": event["sid"], "date": event["date"]}
    assert box.state["strategyVersion"] == 4
    assert inst["executionDay"] == 3  # cycle 1's day, not the start's


def test_a_success_processes_the_event_and_enters_the_next_cycle() -> None:
    engine, box = make()
    event = main_event(box)
    assert (
        engine.execute(box, event, Outcomes(True), at(event) + timedelta(seconds=2)) == "PROCESSED"
    )
    assert (event["attempt"], event["finishDelta"], event["executionTime"]) == (1, 2000, 0)
    assert event["_history"][-1]["outcome"] == "processed"
    assert box.instance["cycle"] == 2
    assert main_event(box)["date"] == "2026-03-04T09:00:00+00:00"


def test_a_failure_is_retried_after_the_declared_delay_then_fails_the_instance() -> None:
    retry = {"times": 1, "retryAfter": {"unit": "hours", "amount": 2}}
    engine, box = make(retry)
    event = main_event(box)
    due = at(event)
    assert engine.execute(box, event, Outcomes(False), due) == "PENDING"
    assert (event["date"], event["errorMessage"], event["attempt"]) == (
        "2026-03-03T11:00:00+00:00",
        "declined",
        1,
    )
    assert event["_history"][-1]["outcome"] == "failed"
    assert engine.execute(box, event, Outcomes(False), due + timedelta(hours=2)) == "FAILED"
    assert (box.instance["status"], box.instance["cancelReason"]) == ("CANCELED", "MAX_ATTEMPTS")
    assert box.instance["nextEvent"] is None


def test_without_a_retry_policy_a_failure_is_final() -> None:
    engine, box = make()
    event = main_event(box)
    assert engine.execute(box, event, Outcomes(False), at(event)) == "FAILED"
    assert event["errorMessage"] == "declined"
    assert [h["outcome"] for h in event["_history"]] == ["failed"]
    assert event["lockOwner"] == "local"


def test_retry_strategy_delays_go_in_order_and_the_last_repeats() -> None:
    strategy = [{"unit": "minutes", "amount": 10}, {"unit": "minutes", "amount": 30}]
    engine, box = make({"times": 3, "retryStrategy": strategy})
    event = main_event(box)
    now = at(event)
    gaps = []
    for _ in range(3):
        engine.execute(box, event, Outcomes(False), now)
        gaps.append(at(event) - now)
        now = at(event)
    assert gaps == [timedelta(minutes=10), timedelta(minutes=30), timedelta(minutes=30)]
    assert event["attempt"] == 3


def test_a_retry_without_a_delay_is_due_at_once() -> None:
    engine, box = make({"times": 1})
    event = main_event(box)
    engine.execute(box, event, Outcomes(False), at(event))
    assert event["status"] == "PENDING" and at(event) == T0 + timedelta(days=1)


@pytest.mark.parametrize(
    ("answer", "gap"),
    [
        (45, timedelta(minutes=45)),
        ({"unit": "hours", "amount": 3}, timedelta(hours=3)),
        (None, timedelta(hours=1)),  # the declared delay
        ("soon", timedelta(hours=1)),  # not a delay: noted, the declared delay applies
        (True, timedelta(hours=1)),
        (CallbackError("down"), timedelta(hours=1)),
        (RetryDelay(unit="minutes", amount=5), timedelta(minutes=5)),
    ],
)
def test_a_retry_event_callback_picks_the_delay(answer: Any, gap: timedelta) -> None:
    answers = Answers(later=answer)
    retry = {
        "times": 2,
        "retryAfter": {"unit": "hours", "amount": 1, "retryEventCallback": "later"},
    }
    engine, box = make(retry, answers)
    event = main_event(box)
    engine.execute(box, event, Outcomes(False), at(event))
    assert at(event) - T0 - timedelta(days=1) == gap
    assert answers.asked[-1][1]["attempt"] == 1
    noted = [n for n in box.state["notes"] if n["kind"] == "callback-error"]
    assert bool(noted) == (gap == timedelta(hours=1) and answer is not None)


def test_exhausted_retries_pause_before_cancel_and_resume_tries_again() -> None:
    engine, box = make({"times": 0, "pauseBeforeCancel": True})
    event = main_event(box)
    assert engine.execute(box, event, Outcomes(False), at(event)) == "PAUSED"
    assert box.instance["status"] == "PAUSED"
    later = at(event) + timedelta(days=3)
    assert engine.resume(box, later) == [event]
    assert (event["status"], event["attempt"], at(event)) == ("PENDING", 0, later)
    assert box.instance["nextEvent"] == {"sid": event["sid"], "date": later.isoformat()}
    assert "_exhausted" not in event


def test_pause_and_resume_move_pending_events_only() -> None:
    engine, box = make(onCancelTasks=[{"task": "notify"}])
    event = main_event(box)
    engine.pause(box, T0)
    assert (box.instance["status"], event["status"]) == ("PAUSED", "PAUSED")
    assert not engine.is_runnable(box, event)
    with pytest.raises(OperationError, match="only an ACTIVE one can be paused"):
        engine.pause(box, T0)
    assert engine.resume(box, T0) == [event]
    assert (box.instance["status"], event["status"], event["date"]) == (
        "ACTIVE",
        "PENDING",
        "2026-03-03T09:00:00+00:00",  # not exhausted: its date stays
    )
    assert engine.is_runnable(box, event)
    with pytest.raises(OperationError, match="only a PAUSED one can be resumed"):
        engine.resume(box, T0)


def test_cancel_ends_open_events_and_creates_the_on_cancel_tasks() -> None:
    engine, box = make(onCancelTasks=[{"task": "notify"}])
    event = main_event(box)
    assert engine.cancel(box, T0) == [event]
    assert (event["status"], event["cancelReason"]) == ("CANCELED", "CANCEL_INSTANCE")
    assert (box.instance["status"], box.instance["cancelReason"]) == ("CANCELED", "HTTP_REQUEST")
    (after,) = [e for e in box.events.values() if e["afterCancellation"]]
    assert (after["task"], after["status"], after["date"]) == (
        "notify",
        "PENDING",
        "2026-03-02T09:00:00+00:00",
    )
    assert engine.is_runnable(box, after) and not engine.is_runnable(box, event)
    assert box.instance["nextEvent"]["sid"] == after["sid"]
    with pytest.raises(OperationError, match="already cancelled"):
        engine.cancel(box, T0)
    with pytest.raises(OperationError, match="no cycle to skip"):
        engine.skip_cycle(box, T0)


def test_skip_cycle_cancels_this_cycle_and_schedules_the_next() -> None:
    engine, box = make()
    event = main_event(box)
    assert engine.skip_cycle(box, T0) == [event]
    assert (event["status"], event["cancelReason"]) == ("CANCELED", "SKIP_CYCLE")
    assert box.instance["cycle"] == 2
    assert main_event(box)["status"] == "PENDING"


def test_skip_cycle_after_the_end_date_is_refused() -> None:
    engine = Engine(RECORD, settings(), Answers())
    box = engine.create({}, T0, end=T0 + timedelta(days=1), now=T0)
    engine.skip_cycle(box, T0)
    assert box.state["ended"] == "cycle 2 would fall after the end date"
    with pytest.raises(OperationError, match="has no further cycles"):
        engine.skip_cycle(box, T0)


def test_on_create_tasks_follow_create_if_and_manual_trigger() -> None:
    items = [
        {"task": "notify", "createIf": "yes", "manualTrigger": True},
        {"task": "notify", "createIf": "no"},
        {"task": "notify", "createIf": "boom"},
    ]
    answers = Answers(yes=True, no=False, boom=CallbackError("down"))
    engine, box = make(None, answers, onCreateTasks=items)
    (created,) = [e for e in box.events.values() if e["task"] == "notify"]
    assert (created["status"], created["createdCycle"]) == ("ONHOLD", 1)
    assert [n["kind"] for n in box.state["notes"]] == ["callback-error"]
    engine.trigger(box, created, T0)
    assert created["status"] == "PENDING"
    with pytest.raises(OperationError, match="not ONHOLD"):
        engine.trigger(box, created, T0)


def test_an_awaiting_event_is_resumed_not_triggered() -> None:
    engine, box = make()
    event = main_event(box)
    with pytest.raises(OperationError, match="not waiting for an asynchronous result"):
        engine.resume_event(box, event, {}, T0)
    event.update(status="ONHOLD", _awaiting=True)
    with pytest.raises(OperationError, match="use `event resume`"):
        engine.trigger(box, event, T0)
    engine.resume_event(box, event, {"ok": 1}, T0)
    assert (event["status"], event["_resume"], event["resumeStrategyVersion"]) == (
        "PENDING",
        {"data": {"ok": 1}},
        4,
    )


def test_a_cycle_limit_stops_advancing() -> None:
    engine = Engine(RECORD, settings(), Answers(), cycle_limit=1)
    box = engine.create({}, T0, now=T0)
    event = main_event(box)
    engine.execute(box, event, Outcomes(True), at(event))
    assert (box.instance["cycle"], box.state["limitReached"]) == (1, True)


def engine_of(*calendars: dict[str, Any], answers: Answers | None = None, **more: Any) -> Engine:
    return Engine(RECORD, settings(None, list(calendars), **more), answers or Answers())


def test_the_box_tracks_what_to_write_back() -> None:
    engine, box = make()
    event = main_event(box)
    assert box.dirty == set(box.events) == {event["sid"]}
    box.dirty.clear()
    engine.pause(box, T0)
    assert box.dirty == {event["sid"]}
    assert box.changed[-1] is event


def test_an_event_created_while_paused_is_paused() -> None:
    engine, box = make()
    engine.pause(box, T0)
    engine.skip_cycle(box, T0)
    assert main_event(box)["status"] == "PAUSED"
    assert box.instance["nextEvent"]["sid"] == main_event(box)["sid"]


def test_a_clamped_month_end_is_noted_and_the_intended_day_kept() -> None:
    monthly = {"key": "m", "scheduleAfter": {"unit": "months", "amount": 1}, "task": "charge"}
    engine = engine_of(
        monthly, onCreateTasks=[{"task": "notify", "delayBy": {"unit": "months", "amount": 1}}]
    )
    box = engine.create({}, datetime.fromisoformat("2027-01-31T09:00:00+00:00"), now=T0)
    event = main_event(box)
    assert (event["date"], box.instance["executionDay"]) == ("2027-02-28T09:00:00+00:00", 31)
    notes = [(n["kind"], n["message"], n["eventSid"]) for n in box.state["notes"]]
    assert (
        "month-clamp",
        "charge: day 31 does not exist in 2027-02; clamped to 2027-02-28",
        event["sid"],
    ) in notes
    assert [n[1].split(":")[0] for n in notes] == ["notify", "charge"]


def test_a_taskless_calendar_advances_once_its_date_has_passed() -> None:
    quiet = {"key": "quiet", "scheduleAfter": {"unit": "days", "amount": 1}}
    engine = engine_of(quiet)
    box = engine.create({}, T0, now=T0)
    assert box.state["taskless"] is True and box.events == {}
    assert engine.advance_taskless(box, T0) is False  # not yet
    assert engine.advance_taskless(box, T0 + timedelta(days=1)) is True
    assert box.instance["cycle"] == 2
    engine.pause(box, T0)
    assert engine.advance_taskless(box, T0 + timedelta(days=9)) is False
    _, normal = make()
    assert engine.advance_taskless(normal, T0 + timedelta(days=9)) is False


def test_no_calendar_for_the_next_cycle_ends_the_schedule() -> None:
    only_first = {**DAILY, "runOnCycle": 1}
    engine = engine_of(only_first)
    box = engine.create({}, T0, now=T0)
    event = main_event(box)
    engine.execute(box, event, Outcomes(True), at(event))
    assert box.state["ended"] == "no calendar applies to cycle 2"
    assert box.instance["endDate"] == box.instance["executionDate"] == event["date"]


def test_cycle_one_is_scheduled_even_after_the_end_date() -> None:
    engine = engine_of(DAILY)
    box = engine.create({}, T0, end=T0, now=T0)
    assert "ended" not in box.state and main_event(box)["createdCycle"] == 1


def test_cycle_one_that_cannot_be_scheduled_is_an_operation_error() -> None:
    due = {**DAILY, "scheduleAfter": {"unit": "days", "amount": 1, "from": "dueDate"}}
    with pytest.raises(
        OperationError, match="cannot schedule cycle 1: attribute 'dueDate' is missing"
    ):
        engine_of(due).create({}, T0, now=T0)


def test_cycle_callbacks_see_the_instance() -> None:
    special = {**DAILY, "key": "special", "runOnCycleCallback": "isSpecial"}
    answers = Answers(isSpecial=False)
    engine_of(special, DAILY, answers=answers).create({"loan": "L-9"}, T0, now=T0)
    ((name, context),) = answers.asked
    assert (name, context["cycle"], context["attributes"]) == ("isSpecial", 1, {"loan": "L-9"})


def test_create_if_sees_cycle_one_and_a_record_without_version_is_version_one() -> None:
    answers = Answers(yes=True)
    engine = Engine(
        {"sid": "s-2"}, settings(onCreateTasks=[{"task": "notify", "createIf": "yes"}]), answers
    )
    box = engine.create({}, T0, now=T0)
    assert answers.asked[0][1]["cycle"] == 1
    assert box.state["strategyVersion"] == 1
    event = main_event(box)
    event.update(status="ONHOLD", _awaiting=True)
    engine.resume_event(box, event, None, T0)
    assert event["resumeStrategyVersion"] == 1


def test_an_attempt_records_when_and_by_whom() -> None:
    engine, box = make({"times": 0, "pauseBeforeCancel": True})
    event = main_event(box)
    due = at(event)
    engine.start_attempt(box, event, due + timedelta(seconds=5), owner="w-1")
    assert (event["status"], event["lockOwner"], event["scheduleDelta"]) == (
        "EXECUTING",
        "w-1",
        5000,
    )
    assert event["scheduledAt"] == event["executedAt"] == "2026-03-03T09:00:05+00:00"
    assert (event["executionDelta"], event["updatedAt"]) == (5000, event["executedAt"])
    assert event["sid"] in box.dirty
    later = due + timedelta(seconds=9)
    box.dirty.clear()
    status = engine.finish_attempt(box, event, Outcomes(False), due, due, clock=lambda: later)
    assert (status, event["updatedAt"]) == ("PAUSED", "2026-03-03T09:00:09+00:00")
    assert event["sid"] in box.dirty
    assert (event["attempt"], event["_serial"]) == (1, 1)
    engine.resume(box, later)
    engine.execute(box, event, Outcomes(True), later)
    # attempts restart after an operator's resume; the serial (idempotency keys) never does
    assert (event["attempt"], event["_serial"], event["errorMessage"]) == (1, 2, None)
    # Counted from 1 again, but not a first attempt: what the earlier one did is kept and its
    # successes are reused (docs/semantics.md section 6).
    assert event["cachedTaskStatus"]["taskResults"][0]["success"] is False
    assert event["finishedAt"] == "2026-03-03T09:00:09+00:00"


def test_an_event_of_a_task_no_longer_in_the_strategy_fails() -> None:
    engine, box = make()
    event = main_event(box)
    event["task"] = "gone"
    assert engine.execute(box, event, Outcomes(True), at(event)) == "FAILED"
    assert event["errorMessage"] == "task 'gone' is not in strategy version"


def test_resume_leaves_events_that_are_not_paused_alone() -> None:
    engine, box = make()
    event = main_event(box)
    engine.execute(box, event, Outcomes(True), at(event))
    engine.pause(box, T0)
    engine.resume(box, T0)
    assert event["status"] == "PROCESSED"
    assert main_event(box)["status"] == "PENDING"


def test_resume_event_marks_the_event_changed() -> None:
    engine, box = make()
    event = main_event(box)
    event.update(status="ONHOLD", _awaiting=True)
    box.dirty.clear()
    engine.resume_event(box, event, None, T0)
    assert event["sid"] in box.dirty and event["date"] == "2026-03-02T09:00:00+00:00"


class Hold:
    def execute(self, call: StepCall, callbacks: Any) -> StepOutcome:
        return StepOutcome(True, hold=True)


@pytest.mark.parametrize(
    ("executor", "status"),
    [(Hold(), "ONHOLD"), (Outcomes(False), "PENDING"), (Outcomes(True), "PROCESSED")],
)
def test_a_held_or_retried_attempt_is_dated_by_the_clock(executor: Any, status: str) -> None:
    engine, box = make({"times": 2})
    event = main_event(box)
    due = at(event)
    engine.start_attempt(box, event, due, owner="w-1")
    later = due + timedelta(seconds=7)
    assert engine.finish_attempt(box, event, executor, due, due, clock=lambda: later) == status
    assert event["updatedAt"] == "2026-03-03T09:00:07+00:00"
    assert "cachedTaskStatus" not in event
    if status == "PENDING":
        engine.execute(box, event, Outcomes(False), at(event))
        assert event["cachedTaskStatus"]["taskResults"][0]["success"] is False


class Asks:
    """Every step succeeds with these overrides."""

    def __init__(self, **overrides: Any) -> None:
        self.overrides = overrides

    def execute(self, call: StepCall, callbacks: Any) -> StepOutcome:
        return StepOutcome(True, overrides=self.overrides)


def test_a_step_that_cancels_the_instance_ends_it_at_this_cycle() -> None:
    engine, box = make(onCancelTasks=[{"task": "notify"}])
    event = main_event(box)
    later = at(event) + timedelta(minutes=1)
    assert engine.execute(box, event, Asks(cancelInstance=True), later) == "PROCESSED"
    assert (box.instance["status"], box.instance["cancelReason"]) == (
        "CANCELED",
        "CONTROLLER_HELPER",
    )
    assert box.instance["cycle"] == 1  # no next cycle
    (after,) = [e for e in box.events.values() if e["afterCancellation"]]
    assert after["status"] == "PENDING"


def test_attributes_a_step_sets_touch_the_instance() -> None:
    engine, box = make()
    event = main_event(box)
    later = at(event) + timedelta(minutes=1)
    box.instance["updatedAt"] = "unchanged"
    engine.defer_refresh = True  # (refresh also stamps the instance)
    engine.execute(box, event, Asks(attributes={"paid": True}), later)
    assert box.instance["updatedAt"] == "2026-03-03T09:01:00+00:00"
    assert box.instance["attributes"] == {"loan": "L-1", "paid": True}


def test_a_deferred_refresh_leaves_next_event_until_asked() -> None:
    engine, box = make()
    engine.defer_refresh = True
    first = main_event(box)
    engine.execute(box, first, Outcomes(True), at(first))
    assert box.instance["nextEvent"]["sid"] == first["sid"]
    engine.refresh(box, at(first))
    assert box.instance["nextEvent"]["sid"] == main_event(box)["sid"] != first["sid"]


def test_a_cycle_that_cannot_be_scheduled_cancels_the_instance() -> None:
    def date_of(context: Mapping[str, Any]) -> Any:
        return None if context["cycle"] == 1 else CallbackError("no date")

    by_callback = {**DAILY, "nextCycleDateCallback": "nextDate"}
    engine = engine_of(by_callback, answers=Answers(nextDate=date_of))
    box = engine.create({}, T0, now=T0)
    event = main_event(box)
    engine.execute(box, event, Outcomes(True), at(event))
    assert box.state["error"] == "cannot schedule cycle 2: no date"
    assert (box.instance["status"], box.instance["cancelReason"]) == (
        "CANCELED",
        "CREATE_CYCLE_ERROR",
    )


def test_dst_gaps_and_folds_are_noted() -> None:
    night = {**DAILY, "scheduleAfter": {"unit": "days", "amount": 1}}
    engine = Engine(
        RECORD, settings(None, [night], config={"timezone": "Europe/Berlin"}), Answers()
    )
    box = engine.create({}, datetime.fromisoformat("2026-03-28T02:30:00+01:00"), now=T0)
    (note,) = box.state["notes"]
    assert (note["kind"], note["message"]) == (
        "dst-gap",
        "charge: 2026-03-29 02:30 does not exist (DST gap); moved to 2026-03-29T03:30:00+02:00",
    )
    box = engine.create({}, datetime.fromisoformat("2026-10-24T02:30:00+02:00"), now=T0)
    (note,) = box.state["notes"]
    assert (note["kind"], note["message"]) == (
        "dst-fold",
        "charge: 2026-10-25 02:30 happens twice (DST fold); the earlier, "
        "2026-10-25T02:30:00+02:00, is used",
    )


def test_events_are_ordered_by_date_then_creation() -> None:
    items = [{"task": "notify"}, {"task": "charge"}]
    _, box = make(onCreateTasks=items)
    assert [e["task"] for e in box.ordered_events()] == ["notify", "charge", "charge"]


def test_skip_cycle_cancels_the_cycle_s_main_and_leading_up_events_only() -> None:
    lead = {"task": "notify", "scheduleBefore": {"unit": "hours", "amount": 2}}
    engine = engine_of({**DAILY, "leadingUpTasks": [lead]}, onCreateTasks=[{"task": "notify"}])
    box = engine.create({}, T0, now=T0)
    kinds = {e["_kind"]: e for e in box.events.values()}
    assert set(kinds) == {"on-create", "leading-up", "main"}
    changed = engine.skip_cycle(box, T0)
    assert {e["_kind"] for e in changed} == {"leading-up", "main"}
    assert kinds["on-create"]["status"] == "PENDING"
    assert box.instance["cycle"] == 2


def test_operations_mark_what_they_change_and_restate_the_next_event() -> None:
    engine, box = make(onCancelTasks=[{"task": "notify"}])
    event = main_event(box)
    steps = [
        ("pause", lambda now: engine.pause(box, now)),
        ("resume", lambda now: engine.resume(box, now)),
        ("skip", lambda now: engine.skip_cycle(box, now)),
        ("cancel", lambda now: engine.cancel(box, now)),
    ]
    for hours, (name, operation) in enumerate(steps, 1):
        now = T0 + timedelta(hours=hours)
        box.dirty.clear()
        operation(now)
        assert event["sid"] in box.dirty, name
        assert box.instance["updatedAt"] == now.isoformat(), name
        event = main_event(box)
    assert box.instance["nextEvent"]["sid"] != event["sid"]  # the on-cancel task's


def test_trigger_and_resume_event_restate_the_next_event() -> None:
    engine, box = make(onCreateTasks=[{"task": "notify", "manualTrigger": True}])
    (manual,) = [e for e in box.events.values() if e["task"] == "notify"]
    with pytest.raises(OperationError, match="not waiting for an asynchronous result"):
        engine.resume_event(box, manual, {}, T0)  # held for a trigger, not for a result
    later = T0 + timedelta(minutes=5)
    engine.trigger(box, manual, later)
    assert box.instance["updatedAt"] == later.isoformat()
    assert box.instance["nextEvent"]["sid"] == manual["sid"]
    event = main_event(box)
    event.update(status="ONHOLD", _awaiting=True)
    engine.resume_event(box, event, {}, later + timedelta(minutes=1))
    assert "_awaiting" not in event
    assert box.instance["updatedAt"] == (later + timedelta(minutes=1)).isoformat()


def test_a_retry_restates_the_next_event() -> None:
    engine, box = make({"times": 1, "retryAfter": {"unit": "hours", "amount": 5}})
    event = main_event(box)
    engine.execute(box, event, Outcomes(False), at(event))
    assert box.instance["nextEvent"] == {"sid": event["sid"], "date": "2026-03-03T14:00:00+00:00"}


def test_only_pending_events_run_and_after_a_cancel_only_the_on_cancel_ones() -> None:
    engine, box = make()
    event = main_event(box)
    engine.execute(box, event, Outcomes(True), at(event))
    assert engine.is_runnable(box, event) is False
    pending = main_event(box)
    engine.cancel(box, T0)
    pending["status"] = "PENDING"
    assert not engine.is_runnable(box, pending)


def test_a_start_in_another_offset_is_stated_in_the_strategy_s_zone() -> None:
    engine = engine_of(DAILY)
    box = engine.create({}, datetime.fromisoformat("2026-03-02T10:00:00+01:00"), now=T0)
    assert box.instance["startDate"] == "2026-03-02T09:00:00+00:00"
    assert box.state["calendar"] == "daily"


def test_events_are_numbered_in_creation_order() -> None:
    _, box = make(onCreateTasks=[{"task": "notify"}, {"task": "notify"}])
    assert [e["_seq"] for e in box.ordered_events()] == [1, 2, 3]


def test_delays_from_an_attribute_read_the_instance_s_attributes() -> None:
    due = {"unit": "days", "amount": 1, "from": "dueDate"}
    retry = {"times": 1, "retryAfter": {"unit": "hours", "amount": 1, "from": "dueDate"}}
    engine = Engine(
        RECORD,
        settings(
            retry,
            [{**DAILY, "scheduleAfter": due}],
            onCreateTasks=[{"task": "notify", "delayBy": due}],
        ),
        Answers(),
    )
    box = engine.create({"dueDate": "2026-04-10"}, T0, now=T0)
    (early,) = [e for e in box.events.values() if e["task"] == "notify"]
    assert early["date"] == "2026-04-11T00:00:00+00:00"
    event = main_event(box)
    assert event["date"] == "2026-04-11T00:00:00+00:00"
    engine.execute(box, event, Outcomes(True), at(event))
    # `from` restarts every cycle at the attribute: cycle 2 falls on the same day
    assert (box.instance["cycle"], main_event(box)["date"]) == (2, "2026-04-11T00:00:00+00:00")
    event = main_event(box)
    engine.execute(box, event, Outcomes(False), at(event))
    assert event["date"] == "2026-04-10T01:00:00+00:00"


def test_a_leading_up_event_before_the_start_is_noted_not_created() -> None:
    lead = {"task": "notify", "scheduleBefore": {"unit": "days", "amount": 2}}
    engine = engine_of({**DAILY, "leadingUpTasks": [lead]})
    box = engine.create({}, T0, now=T0)
    assert [e["_kind"] for e in box.events.values()] == ["main"]
    (note,) = box.state["notes"]
    assert note["kind"] == "leading-up-skipped"
    assert note["message"] == (
        "cycle 1: leading-up task 'notify' would fall on 2026-03-01T09:00:00+00:00, "
        "before the instance's start; not created"
    )


def test_a_final_failure_is_dated_by_the_clock() -> None:
    engine, box = make()
    event = main_event(box)
    due = at(event)
    engine.start_attempt(box, event, due, owner="w-1")
    later = due + timedelta(seconds=3)
    assert (
        engine.finish_attempt(box, event, Outcomes(False), due, due, clock=lambda: later)
        == "FAILED"
    )
    assert event["updatedAt"] == event["finishedAt"] == "2026-03-03T09:00:03+00:00"
