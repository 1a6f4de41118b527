"""One attempt of a task over its step graph (docs/semantics.md sections 5-6).

The walk is the same for simulation and for real runs: only the StepExecutor differs (a scenario,
or HTTP). Controllers and branch callbacks go through the Callbacks provider.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from .callbacks import CallbackError, Callbacks
from .models import Step, Task

# A step graph with a cycle that never ends would spin forever; no real task runs this long.
MAX_STEPS_PER_ATTEMPT = 1000


@dataclass(slots=True)
class StepOutcome:
    success: bool
    data: Any = None
    message: str | None = None
    httpData: dict[str, Any] | None = None
    overrides: dict[str, Any] | None = None
    hold: bool = False  # an async method acknowledged: wait for a resume
    # Nothing left the client (a reference, a variable, a header or URL that cannot be sent):
    # the strategy or its environment is wrong, not the service; no retry is used for it.
    configuration_error: bool = False


@dataclass(slots=True)
class StepCall:
    task: Task
    step: Step
    event: dict[str, Any]
    instance: dict[str, Any]
    results: list[dict[str, Any]]

    def context(self) -> dict[str, Any]:
        """What callbacks and {{ }} references see (read-only by convention)."""
        return {
            "attributes": self.instance.get("attributes") or {},
            "instance": self.instance,
            "event": self.event,
            "steps": steps_view(self.results),
            "cycle": self.instance.get("cycle"),
        }


class StepExecutor(Protocol):
    def execute(self, call: StepCall, callbacks: Callbacks) -> StepOutcome: ...


def steps_view(results: list[dict[str, Any]]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for r in results:
        view[r["step"]] = {
            "data": r.get("data"),
            "success": r["success"],
            "message": r.get("message"),
        }
        if "afterResumeData" in r:  # an async step's result, once resumed
            view[r["step"]]["afterResumeData"] = r["afterResumeData"]
    return view


def run_controller(call: StepCall, callbacks: Callbacks) -> StepOutcome:
    """A step with `controller` / `controllerCallback`: the callback decides."""
    name = call.step.controller or call.step.controllerCallback
    kind = "controller" if call.step.controller else "controllerCallback"
    try:
        value = callbacks.call(str(name), kind, call.context())  # type: ignore[arg-type]
    except CallbackError as exc:
        return StepOutcome(False, message=str(exc))
    return outcome_from_value(value)


def outcome_from_value(value: Any) -> StepOutcome:
    """A callback's return: None/True succeed, False fails, a mapping may carry more."""
    if value is None or value is True:
        return StepOutcome(True)
    if value is False:
        return StepOutcome(False, message="the controller reported failure")
    if isinstance(value, Mapping):
        ok = value.get("success", True) is not False
        return StepOutcome(
            ok,
            data=value.get("data"),
            message=value.get("message"),
            overrides=value.get("overrides"),
        )
    return StepOutcome(True, data=value)


CONFIGURATION_ERROR: Final = "configuration-error"


@dataclass(slots=True)
class AttemptResult:
    status: Literal["success", "failed", "hold", "configuration-error"]
    results: list[dict[str, Any]] = field(default_factory=list)
    last_step: str | None = None
    failed_step: Step | None = None
    message: str | None = None
    reset_attempts: bool = False
    cancel_instance: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    # How many of `results` the task's own walk produced; onBeforeRetry/onBeforePause steps
    # come after them and are never reused by a later attempt.
    walked: int | None = None
    # What earlier attempts of the event had succeeded at, as this attempt started.
    earlier: Mapping[str, dict[str, Any]] = field(default_factory=dict)


class Walker:
    """Walks one task's steps; executes, caches and branches as docs/semantics.md sections 5-6 says."""

    def __init__(self, task: Task, executor: StepExecutor, callbacks: Callbacks) -> None:
        self.task = task
        self.steps = {s.key: s for s in task.steps}
        self.executor = executor
        self.callbacks = callbacks

    def attempt(self, event: dict[str, Any], instance: dict[str, Any]) -> AttemptResult:
        cached = earlier_successes(event)
        state = AttemptResult("success", earlier=cached)
        return self.walk(self.task.initialStep, event, instance, state, cached)

    def resume(
        self, event: dict[str, Any], instance: dict[str, Any], resume_data: Any
    ) -> AttemptResult:
        """Continue after an async step was acknowledged and then resumed with data."""
        status = event.get("taskStatus") or {}
        results = copy.deepcopy(status.get("taskResults") or [])
        key = status.get("lastStep")
        # The held attempt's own results are `results`; older attempts' successes stay kept.
        earlier = event.get("_successes") or {}
        if key not in self.steps:
            return AttemptResult(
                "failed", results, key, None, f"cannot resume at step {key!r}", earlier=earlier
            )
        step = self.steps[key]
        after = resume_data
        if step.resumeControllerCallback:
            call = StepCall(self.task, step, event, instance, results)
            ctx = {**call.context(), "resumeData": resume_data}
            try:
                after = self.callbacks.call(
                    step.resumeControllerCallback, "resumeControllerCallback", ctx
                )
            except CallbackError as exc:
                return AttemptResult("failed", results, key, step, str(exc), earlier=earlier)
        if results and results[-1]["step"] == key:
            results[-1]["afterResumeData"] = after if after is not None else resume_data
        state = AttemptResult("success", results, key, earlier=earlier)
        try:
            nxt = self._next_on_success(step, event, instance, results)
        except CallbackError as exc:
            return _failed(state, step, str(exc))
        return self.walk(nxt, event, instance, state, {}) if nxt else state

    def walk(
        self,
        start: str | None,
        event: dict[str, Any],
        instance: dict[str, Any],
        state: AttemptResult,
        cached: Mapping[str, dict[str, Any]],
    ) -> AttemptResult:
        key = start
        for _ in range(MAX_STEPS_PER_ATTEMPT):
            if key is None:
                return state
            step = self.steps.get(key)
            if step is None:
                return _failed(
                    state, None, f"step {key!r} does not exist in task {self.task.key!r}"
                )
            outcome = self._run(step, event, instance, state, cached)
            state.last_step = key
            if outcome.configuration_error:  # neither `optional` nor `onError` covers it
                _failed(state, step, outcome.message or f"step {key!r} cannot be sent")
                state.status = CONFIGURATION_ERROR
                return state
            if outcome.hold and outcome.success:
                state.status = "hold"
                return state
            if state.cancel_instance:
                return state
            if outcome.success or step.optional:
                if outcome.success and step.resetAttempts:
                    state.reset_attempts = True
                # A controller may pick the next step (the guard skips a call per step).
                overrides = outcome.overrides
                chosen = _chosen_step(overrides) if overrides is not None else None
                try:
                    key = chosen or (
                        None
                        if step.final
                        else self._next_on_success(step, event, instance, state.results)
                    )
                except CallbackError as exc:  # an ifCallback raised: the step fails
                    state.results[-1].setdefault("message", str(exc))
                    return _failed(state, step, str(exc))
            else:
                handler = _rule(step, "onError")
                if handler is None or not handler.nextStep:
                    return _failed(state, step, outcome.message or f"step {key!r} failed")
                key = handler.nextStep
        return _failed(state, None, f"more than {MAX_STEPS_PER_ATTEMPT} steps in one attempt")

    def _run(
        self,
        step: Step,
        event: dict[str, Any],
        instance: dict[str, Any],
        state: AttemptResult,
        cached: Mapping[str, dict[str, Any]],
    ) -> StepOutcome:
        if step.key in cached and not step.repeatOnRetry:
            result = {**cached[step.key], "fromCache": True}
            state.results.append(result)
            return StepOutcome(True, data=result.get("data"))
        if step.action or step.controller or step.controllerCallback:
            call = StepCall(self.task, step, event, instance, state.results)
            outcome = self.executor.execute(call, self.callbacks)
        else:
            outcome = StepOutcome(True)  # a routing step
        state.results.append(_result(step, outcome, event))
        if outcome.overrides is not None:  # rare: skip the call
            _apply_overrides(state, instance, outcome.overrides)
        return outcome

    def _next_on_success(
        self,
        step: Step,
        event: dict[str, Any],
        instance: dict[str, Any],
        results: list[dict[str, Any]],
    ) -> str | None:
        for rule in step.nextStepRules or []:
            if rule.if_ != "callback" or not rule.ifCallback:
                continue
            ctx = StepCall(self.task, step, event, instance, results).context()
            chosen = self.callbacks.call(rule.ifCallback, "ifCallback", ctx)  # may raise
            if chosen:
                return rule.nextStep
        return step.nextStep

    def side_step(
        self,
        kind: str,
        failed: Step | None,
        event: dict[str, Any],
        instance: dict[str, Any],
        state: AttemptResult,
    ) -> None:
        """Run the `onBeforeRetry` / `onBeforePause` branch of the failing step, if any."""
        rule = _rule(failed, kind) if failed else None
        if rule is None or not rule.nextStep:
            return
        if state.walked is None:
            state.walked = len(state.results)
        probe = AttemptResult("success", state.results)
        self.walk(rule.nextStep, event, instance, probe, {})
        state.results = probe.results
        state.cancel_instance |= probe.cancel_instance
        if probe.last_step is not None:  # the side step that ran is where the attempt stopped
            state.last_step = probe.last_step


def _chosen_step(overrides: Any) -> str | None:
    """`overrides.nextStep` of a controller's result: the step to go to next."""
    if (
        overrides is not None
        and isinstance(overrides, Mapping)
        and isinstance(overrides.get("nextStep"), str)
    ):
        return str(overrides["nextStep"]) or None
    return None


def is_retry(event: dict[str, Any]) -> bool:
    """Whether an earlier attempt of the event ran: its successes are then reused. `_serial`
    counts every attempt; neither `resetAttempts` nor a configuration error takes it back."""
    return (event.get("_serial") or event.get("attempt") or 0) > 1


def _rule(step: Step | None, kind: str) -> Any:
    if step is None:
        return None
    return next((r for r in step.nextStepRules or [] if r.if_ == kind), None)


def _failed(state: AttemptResult, step: Step | None, message: str) -> AttemptResult:
    state.status, state.failed_step, state.message = "failed", step, message
    return state


def _result(step: Step, outcome: StepOutcome, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"step": step.key, "success": outcome.success, "fromCache": False}
    # Spelled out rather than a loop over getattr: this runs for every step of every attempt.
    if outcome.message is not None:
        result["message"] = outcome.message
    if outcome.httpData is not None:
        result["httpData"] = outcome.httpData
    if outcome.data is not None:
        result["data"] = outcome.data
    if outcome.overrides is not None:
        result["overrides"] = outcome.overrides
    if event.get("correlationId"):
        result["correlationId"] = event["correlationId"]
    return result


def _apply_overrides(state: AttemptResult, instance: dict[str, Any], overrides: Any) -> None:
    """A controller may merge attributes or ask to cancel the instance."""
    if overrides is None or not isinstance(overrides, Mapping):
        return
    attrs = overrides.get("attributes")
    if isinstance(attrs, Mapping):
        state.attributes.update(attrs)
        instance["attributes"] = {**(instance.get("attributes") or {}), **attrs}
    if overrides.get("cancelInstance") is True:
        state.cancel_instance = True


# A first attempt has no cached results; shared, never written to.
_NONE_CACHED: Mapping[str, dict[str, Any]] = {}


def earlier_successes(event: dict[str, Any]) -> Mapping[str, dict[str, Any]]:
    """Every step that succeeded in an earlier attempt of the event: its most recent success.

    The last attempt's own results are its `taskStatus` (up to `_walked`: the onBeforeRetry and
    onBeforePause steps after it are never reused); `_successes` keeps only what older attempts
    succeeded at and the last one did not, so no stored body is kept twice.
    """
    if not is_retry(event):
        return _NONE_CACHED
    status = event.get("taskStatus") or {}
    results = status.get("taskResults") or []
    walked = event.get("_walked")
    if isinstance(walked, int):
        results = results[:walked]
    merged = dict(event.get("_successes") or {})
    merged.update({r["step"]: r for r in results if r.get("success")})
    return merged


def remember_successes(event: dict[str, Any], result: AttemptResult) -> None:
    """Keep, beside the attempt's taskStatus, the earlier successes it does not hold itself."""
    walked = result.results if result.walked is None else result.results[: result.walked]
    current = {r["step"] for r in walked if r.get("success")}
    older = {k: v for k, v in result.earlier.items() if k not in current}
    _set_or_drop(event, "_successes", older or None)
    side = result.walked is not None and result.walked < len(result.results)
    _set_or_drop(event, "_walked", result.walked if side else None)


def _set_or_drop(record: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        record.pop(key, None)
    else:
        record[key] = value
