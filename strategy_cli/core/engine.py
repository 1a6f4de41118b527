"""The instance state machine (docs/semantics.md sections 3-6), shared by simulate, the operator
commands and the runner. Pure: it takes "now", an executor and a callback provider, and mutates
an InstanceBox that the caller persists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import StrategyError
from .attempt import (
    CONFIGURATION_ERROR,
    AttemptResult,
    StepExecutor,
    Walker,
    is_retry,
    remember_successes,
)
from .callbacks import CallbackError, Callbacks
from .domain import SCHEDULED_KINDS, CancelReason, EventKind, EventStatus, InstanceStatus, NoteKind
from .models import LifecycleTask, RetryConfig, RetryDelay, Settings, Step
from .records import Record, instant_of, is_terminal, iso, kind_of, new_event, new_sid
from .schedule import (
    Cycle,
    Moment,
    Note,
    calendar_for,
    cycle_date,
    first_cycle_base,
    plan_cycle,
    shifted,
)
from .timecalc import TimeError, WallTime, get_zone, wall_of

ZERO = RetryDelay(unit="minutes", amount=0)
_NO_CONTEXT: dict[str, Any] = {}  # for a strategy whose cycles call no callback; never written


class OperationError(StrategyError):
    """An operation that the instance's or event's current status does not allow."""


@dataclass
class InstanceBox:
    """One instance with all its events; `dirty` names the events to write back."""

    instance: Record
    state: dict[str, Any]
    events: dict[str, Record] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    # Events changed since the last drain, in order: the simulator's clock re-reads them.
    changed: list[Record] = field(default_factory=list)

    def add(self, event: Record) -> None:
        self.events[event["sid"]] = event
        self.dirty.add(event["sid"])
        self.changed.append(event)

    def touch(self, event: Record, now: datetime, stamp: str | None = None) -> None:
        """Mark `event` changed at `now`; `stamp` is `iso(now)` when the caller already has it."""
        event["updatedAt"] = iso(now) if stamp is None else stamp
        self.dirty.add(event["sid"])
        self.changed.append(event)

    def note(self, kind: NoteKind, message: str, event_sid: str | None = None) -> None:
        self.state.setdefault("notes", []).append(Note(kind, message, event_sid).to_json())

    def ordered_events(self) -> list[Record]:
        return sorted(self.events.values(), key=lambda e: (_instant(e["date"]), e.get("_seq", 0)))


# Runs several times per simulated event: cached, with shared tzinfo objects.
_instant = instant_of


class Engine:
    def __init__(
        self,
        strategy: Record,
        settings: Settings,
        callbacks: Callbacks,
        *,
        cycle_limit: int | None = None,
    ) -> None:
        self.strategy = strategy
        self.settings = settings
        self.callbacks = callbacks
        self.cycle_limit = cycle_limit
        config = settings.config
        self.zone = get_zone(config.timezone if config else None)
        self.manual = bool(config and config.manualTrigger)
        self.tasks = {t.key: t for t in settings.tasks}
        # Only these callbacks read a cycle's context: without them it is not built.
        self._cycle_callbacks = any(
            cal.runOnCycleCallback or cal.nextCycleDateCallback
            for cal in settings.schedule.calendars
        )
        self._seq = 0
        self.defer_refresh = False
        self._walkers: dict[tuple[str, int], Walker] = {}

    # --- creation -------------------------------------------------------------------------

    def create(
        self,
        attributes: dict[str, Any],
        start: datetime,
        *,
        end: datetime | None = None,
        description: str | None = None,
        now: datetime,
        intended: WallTime | None = None,
    ) -> InstanceBox:
        """`intended` is the start's intended wall time when it differs from the instant's own
        (a start written without an offset inside a DST gap)."""
        start = start.astimezone(self.zone)
        base_wall = wall_of(start, self.zone) if intended is None else intended
        instance: Record = {
            "sid": new_sid(),
            "description": description,
            "strategyId": self.strategy["sid"],
            "status": InstanceStatus.ACTIVE,
            "cycle": 1,
            "startDate": iso(start),
            "endDate": iso(end.astimezone(self.zone)) if end else None,
            "executionDate": iso(start),
            "executionDay": start.day,
            "attributes": attributes,
            "createdAt": iso(now),
            "updatedAt": iso(now),
        }
        box = InstanceBox(
            instance, {"strategyVersion": self.strategy.get("version", 1), "notes": []}
        )
        for item in self.settings.onCreateTasks or []:
            self._lifecycle_event(box, item, base_wall, EventKind.ON_CREATE, 1, now)
        try:
            base = first_cycle_base(self.settings, start, self.zone, attributes, base_wall)
            self._enter_cycle(box, 1, base, now)
        except (TimeError, OverflowError, CallbackError) as exc:  # Overflow: off the calendar
            raise OperationError(f"cannot schedule cycle 1: {exc}") from None
        self._refresh(box, now)
        return box

    def _lifecycle_event(
        self,
        box: InstanceBox,
        item: LifecycleTask,
        base: WallTime,
        kind: str,
        cycle: int,
        now: datetime,
    ) -> None:
        ctx = self.context(box)
        if item.createIf:
            try:
                wanted = self.callbacks.call(item.createIf, "createIf", ctx)
            except CallbackError as exc:  # e.g. while cancelling: the cancel must still happen
                box.note(NoteKind.CALLBACK_ERROR, f"{kind} task '{item.task}' not created: {exc}")
                return
            if not wanted:
                return
        at = shifted(base, item.delayBy, self.zone, box.instance.get("attributes") or {})
        event = self._event(box, item.task, at, kind, cycle, now, manual=bool(item.manualTrigger))
        self._adjustment_notes(box, event, at)

    def _event(
        self,
        box: InstanceBox,
        task: str,
        at: Moment,
        kind: str,
        cycle: int,
        now: datetime,
        manual: bool,
    ) -> Record:
        event = new_event(
            instance=box.instance,
            strategy=self.strategy,
            task=task,
            date=at.instant,
            kind=kind,  # type: ignore[arg-type]
            cycle=cycle,
            now=now,
            manual=manual or self.manual,
        )
        if (
            box.instance.get("status") == InstanceStatus.PAUSED
            and event["status"] == EventStatus.PENDING
        ):
            event["status"] = (
                EventStatus.PAUSED
            )  # e.g. skip-cycle on a paused instance: resume re-queues it
        self._seq += 1
        event["_seq"] = self._seq
        box.add(event)
        return event

    # --- cycles ---------------------------------------------------------------------------

    def _enter_cycle(self, box: InstanceBox, n: int, base: WallTime, now: datetime) -> bool:
        """Compute cycle n from the previous intended wall time and create its events."""
        ctx = {**self.context(box), "cycle": n} if self._cycle_callbacks else _NO_CONTEXT
        cal = calendar_for(self.settings, n, self.callbacks, ctx)
        if cal is None:
            self._end_schedule(box, f"no calendar applies to cycle {n}")
            return False
        attrs = box.instance.get("attributes") or {}
        when = cycle_date(cal, base, self.zone, attrs, self.callbacks, ctx)
        end = box.instance.get("endDate")
        if n > 1 and end and when.instant > _instant(end):
            self._end_schedule(box, f"cycle {n} would fall after the end date")
            return False
        start = _instant(box.instance["startDate"])
        self._apply_cycle(box, plan_cycle(n, cal, when, self.zone, attrs, start), now)
        return True

    def _apply_cycle(self, box: InstanceBox, cycle: Cycle, now: datetime) -> None:
        inst = box.instance
        inst["cycle"] = cycle.number
        inst["executionDate"] = iso(cycle.moment.instant)
        inst["executionDay"] = cycle.moment.intended.day
        box.state["intended"] = list(cycle.moment.intended)  # a WallTime is a tuple
        box.state["calendar"] = cycle.calendar.key
        box.state["taskless"] = not cycle.calendar.task
        for planned in cycle.events:
            if planned.skipped:
                box.note(
                    NoteKind.LEADING_UP_SKIPPED,
                    f"cycle {cycle.number}: leading-up task '{planned.task}' would fall on "
                    f"{iso(planned.moment.instant)}, before the instance's start; not created",
                )
                continue
            event = self._event(
                box, planned.task, planned.moment, planned.kind, cycle.number, now, False
            )
            if planned.offset:
                event["_offset"] = planned.offset  # shown by the timeline, in the unit written
            if planned.moment.adjustments:  # rare: skip the call
                self._adjustment_notes(box, event, planned.moment)

    def _adjustment_notes(self, box: InstanceBox, event: Record, at: Moment) -> None:
        if not at.adjustments:  # the usual case: skip formatting the texts
            return
        wt = at.intended
        wanted = f"{wt.year:04d}-{wt.month:02d}-{wt.day:02d} {wt.hour:02d}:{wt.minute:02d}"
        for kind in at.adjustments:
            text = {
                NoteKind.MONTH_CLAMP: f"day {wt.day} does not exist in {wt.year:04d}-{wt.month:02d}; "
                f"clamped to {at.instant.date().isoformat()}",
                NoteKind.DST_GAP: f"{wanted} does not exist (DST gap); moved to {iso(at.instant)}",
                NoteKind.DST_FOLD: f"{wanted} happens twice (DST fold); the earlier, {iso(at.instant)}, is used",
            }[kind]
            box.note(kind, f"{event['task']}: {text}", event["sid"])

    def _end_schedule(self, box: InstanceBox, why: str) -> None:
        box.state["ended"] = why
        box.instance["endDate"] = box.instance["executionDate"]

    def advance(self, box: InstanceBox, now: datetime) -> None:
        """Move to the next cycle after the current one's main event (or date) has passed."""
        n = box.instance["cycle"] + 1
        if box.state.get("ended") or (self.cycle_limit is not None and n > self.cycle_limit):
            box.state["limitReached"] = True
            return
        try:
            self._enter_cycle(box, n, _wall(box.state["intended"]), now)
        except (TimeError, OverflowError, CallbackError) as exc:  # Overflow: off the calendar
            box.state["error"] = f"cannot schedule cycle {n}: {exc}"
            self.cancel(box, now, reason=CancelReason.CREATE_CYCLE_ERROR)
        self._refresh(box, now)

    def advance_taskless(self, box: InstanceBox, now: datetime) -> bool:
        """A calendar without a task advances once its date has passed."""
        inst = box.instance
        if not box.state.get("taskless") or inst["status"] != InstanceStatus.ACTIVE:
            return False
        if (
            box.state.get("ended")
            or box.state.get("limitReached")
            or _instant(inst["executionDate"]) > now
        ):
            return False
        self.advance(box, now)
        return True

    # --- running an attempt ---------------------------------------------------------------

    def start_attempt(self, box: InstanceBox, event: Record, now: datetime, owner: str) -> None:
        late = _ms(now, _instant(event["date"]))
        stamp = iso(now)
        # Plain assignments, not update(**kwargs): this runs once per simulated event.
        event["status"] = EventStatus.EXECUTING
        event["scheduledAt"] = stamp
        event["scheduleDelta"] = late
        event["executedAt"] = stamp
        event["executionDelta"] = late
        event["lockOwner"] = owner
        if "_resume" not in event:  # a resumed async attempt continues, it is not a new one
            event["attempt"] = (event.get("attempt") or 0) + 1
            # Counts every attempt, never reset (resetAttempts, an operator's resume): the
            # runner's idempotency keys use it, so a new attempt never reuses an old key.
            event["_serial"] = max((event.get("_serial") or 0) + 1, event["attempt"])
            # Every attempt after the first is a retry, also after resetAttempts set the counter
            # back: it keeps what the previous attempt did.
            if is_retry(event) and event.get("taskStatus"):
                event["cachedTaskStatus"] = event["taskStatus"]
        box.touch(event, now, stamp)

    def execute(
        self, box: InstanceBox, event: Record, executor: StepExecutor, now: datetime
    ) -> str:
        """One attempt of a due event; returns its resulting status."""
        self.start_attempt(box, event, now, owner=event.get("lockOwner") or "local")
        return self.finish_attempt(box, event, executor, now, now)

    def finish_attempt(
        self,
        box: InstanceBox,
        event: Record,
        executor: StepExecutor,
        started: datetime,
        now: datetime,
        clock: Callable[[], datetime] | None = None,
    ) -> str:
        """Run the attempt started by start_attempt. `clock` (real runs) dates the outcome after
        the calls; a simulation passes none and the outcome happens at `now`."""
        task = self.tasks.get(event["task"])
        if task is None:
            return self._fail(box, event, f"task '{event['task']}' is not in strategy version", now)
        walker = self._walker(task, executor)
        resume = event.pop("_resume", None)
        if resume is not None:
            result = walker.resume(event, box.instance, resume.get("data"))
        else:
            result = walker.attempt(event, box.instance)
        if clock is not None:
            now = clock()
        if result.status == CONFIGURATION_ERROR:
            return self._configuration_error(box, event, result, resume, now)
        return self._settle(box, event, walker, result, started, now)

    def _configuration_error(
        self, box: InstanceBox, event: Record, result: AttemptResult, resume: Any, now: datetime
    ) -> str:
        """Nothing left the client at the failing step: the event stays due as it was, without
        using a retry or cancelling anything, and says why (docs/running.md)."""
        message = f"configuration error: {result.message}"
        history = event["_history"]
        if history and history[-1].get("outcome") == CONFIGURATION_ERROR:
            history.pop()  # the same mistake, tried again: one entry, the latest
        history.append(_history(event, CONFIGURATION_ERROR, iso(now), message))
        if resume is not None:
            event["_resume"] = resume  # the flow continues from where it waited, next time
        else:
            # What this attempt sent (steps that succeeded) is reused by the next one.
            event["taskStatus"] = {
                "lastStep": result.last_step or "",
                "taskResults": result.results,
            }
            remember_successes(event, result)
            count = 0 if result.reset_attempts else (event.get("attempt") or 1) - 1
            event["attempt"] = max(count, 0)
        event.update(status=EventStatus.PENDING, errorMessage=message)
        box.touch(event, now)
        self._refresh(box, now)
        return CONFIGURATION_ERROR

    def _walker(self, task: Any, executor: StepExecutor) -> Walker:
        """One walker per task and executor: its step table is built once, not per attempt."""
        key = (task.key, id(executor))
        walker = self._walkers.get(key)
        if walker is None or walker.executor is not executor:
            walker = self._walkers[key] = Walker(task, executor, self.callbacks)
        return walker

    def resume_event(self, box: InstanceBox, event: Record, data: Any, now: datetime) -> None:
        """An async method's result arrived: the event becomes due to continue its flow."""
        if event["status"] != EventStatus.ONHOLD or not event.get("_awaiting"):
            raise OperationError(
                f"event {event['sid']} is {event['status']}, not waiting for an asynchronous result"
            )
        event.pop("_awaiting", None)
        event["_resume"] = {"data": data}
        event["resumeStrategyVersion"] = self.strategy.get("version", 1)
        event.update(status=EventStatus.PENDING, date=iso(now.astimezone(self.zone)))
        box.touch(event, now)
        self._refresh(box, now)

    def _settle(
        self,
        box: InstanceBox,
        event: Record,
        walker: Walker,
        result: AttemptResult,
        started: datetime,
        now: datetime,
    ) -> str:
        event["taskStatus"] = {"lastStep": result.last_step or "", "taskResults": result.results}
        if result.reset_attempts:
            event["attempt"] = 0
        if result.attributes:
            box.instance["updatedAt"] = iso(now)
        if result.status == "hold":
            event.update(status=EventStatus.ONHOLD, _awaiting=True)
            box.touch(event, now)
        elif result.status == "success":
            # A step that asked to cancel the instance ends it at this cycle: no next cycle.
            self._processed(box, event, started, now, advance=not result.cancel_instance)
        else:
            self._failed_attempt(box, event, walker, result, now)
        remember_successes(event, result)  # after any onBeforeRetry/onBeforePause step ran
        if result.cancel_instance and box.instance["status"] != InstanceStatus.CANCELED:
            self.cancel(
                box,
                now,
                reason=CancelReason.CONTROLLER_HELPER,
                event_reason=CancelReason.INSTANCE_CANCEL_TASK_REQUESTED,
            )
        if not self.defer_refresh:  # _refresh, without a call per simulated event
            self.refresh(box, now)
        return str(event["status"])

    def _processed(
        self,
        box: InstanceBox,
        event: Record,
        started: datetime,
        now: datetime,
        advance: bool = True,
    ) -> None:
        stamp = iso(now)
        event["status"] = EventStatus.PROCESSED
        event["finishedAt"] = stamp
        event["finishDelta"] = _ms(now, _instant(event["date"]))
        event["executionTime"] = _ms(now, started)
        event["errorMessage"] = None
        event["_history"].append(_history(event, "processed", stamp))
        box.touch(event, now, stamp)
        current = event.get("createdCycle") == box.instance["cycle"]
        if (
            advance
            and event.get("main")
            and box.instance["status"] == InstanceStatus.ACTIVE
            and current
        ):
            self.advance(box, now)

    def _failed_attempt(
        self, box: InstanceBox, event: Record, walker: Walker, result: AttemptResult, now: datetime
    ) -> None:
        policy = _policy(result.failed_step, walker.task.retryConfig)
        k = event.get("attempt") or 0
        event["errorMessage"] = result.message
        if k <= policy.times:
            walker.side_step("onBeforeRetry", result.failed_step, event, box.instance, result)
            event["taskStatus"] = {
                "lastStep": result.last_step or "",
                "taskResults": result.results,
            }
            delay = self._retry_delay(box, event, policy, k)
            retry_at = shifted(
                wall_of(now, self.zone), delay, self.zone, box.instance.get("attributes") or {}
            )
            event["_history"].append(_history(event, "failed", iso(now), result.message))
            event.update(status=EventStatus.PENDING, date=iso(retry_at.instant))
            box.touch(event, now)
            return
        event["_history"].append(_history(event, "failed", iso(now), result.message))
        if policy.pauseBeforeCancel:
            walker.side_step("onBeforePause", result.failed_step, event, box.instance, result)
            event["taskStatus"] = {
                "lastStep": result.last_step or "",
                "taskResults": result.results,
            }
            event.update(status=EventStatus.PAUSED, _exhausted=True)
            box.touch(event, now)
            if box.instance["status"] == InstanceStatus.ACTIVE:
                self.pause(box, now)
            return
        self._fail(box, event, result.message or "the task failed", now)

    def _fail(self, box: InstanceBox, event: Record, message: str, now: datetime) -> str:
        event.update(status=EventStatus.FAILED, errorMessage=message, finishedAt=iso(now))
        box.touch(event, now)
        if event.get("main") and box.instance["status"] != InstanceStatus.CANCELED:
            self.cancel(box, now, reason=CancelReason.MAX_ATTEMPTS)
        return EventStatus.FAILED

    def _retry_delay(self, box: InstanceBox, event: Record, policy: RetryConfig, k: int) -> Any:
        after = policy.retryAfter
        if after is not None and after.retryEventCallback:
            ctx = {**self.context(box, event), "attempt": k}
            try:
                value = self.callbacks.call(after.retryEventCallback, "retryEventCallback", ctx)
                if value is not None:
                    return _as_delay(value)
            except (CallbackError, ValueError) as exc:  # the declared delay still applies
                box.note(NoteKind.CALLBACK_ERROR, f"{event['task']}: {exc}", event["sid"])
        if policy.retryStrategy:
            return policy.retryStrategy[min(max(k - 1, 0), len(policy.retryStrategy) - 1)]
        return after if after is not None else ZERO

    # --- operator actions -----------------------------------------------------------------

    def cancel(
        self,
        box: InstanceBox,
        now: datetime,
        *,
        reason: str = CancelReason.HTTP_REQUEST,
        event_reason: str = CancelReason.CANCEL_INSTANCE,
    ) -> list[Record]:
        inst = box.instance
        if inst["status"] == InstanceStatus.CANCELED:
            raise OperationError(f"instance {inst['sid']} is already cancelled")
        inst.update(status=InstanceStatus.CANCELED, cancelReason=reason, updatedAt=iso(now))
        changed = []
        for event in box.events.values():
            if not is_terminal(event) and not event.get("afterCancellation"):
                event.update(status=EventStatus.CANCELED, cancelReason=event_reason)
                box.touch(event, now)
                changed.append(event)
        for item in self.settings.onCancelTasks or []:
            self._lifecycle_event(
                box, item, wall_of(now, self.zone), EventKind.ON_CANCEL, inst["cycle"], now
            )
        self._refresh(box, now)
        return changed

    def pause(self, box: InstanceBox, now: datetime) -> None:
        inst = box.instance
        if inst["status"] != InstanceStatus.ACTIVE:
            raise OperationError(
                f"instance {inst['sid']} is {inst['status']}; only an ACTIVE one can be paused"
            )
        inst.update(status=InstanceStatus.PAUSED, updatedAt=iso(now))
        for event in box.events.values():
            if event["status"] in (EventStatus.PENDING, EventStatus.QUEUED) and not event.get(
                "afterCancellation"
            ):
                event.update(status=EventStatus.PAUSED)
                box.touch(event, now)
        self._refresh(box, now)

    def resume(self, box: InstanceBox, now: datetime) -> list[Record]:
        inst = box.instance
        if inst["status"] != InstanceStatus.PAUSED:
            raise OperationError(
                f"instance {inst['sid']} is {inst['status']}; only a PAUSED one can be resumed"
            )
        inst.update(status=InstanceStatus.ACTIVE, updatedAt=iso(now))
        changed = []
        for event in box.events.values():
            if event["status"] != EventStatus.PAUSED:
                continue
            if event.pop("_exhausted", False):
                # Retries were exhausted: resuming is an operator's "try again now".
                event.update(attempt=0, date=iso(now.astimezone(self.zone)))
            event["status"] = EventStatus.PENDING
            box.touch(event, now)
            changed.append(event)
        self._refresh(box, now)
        return changed

    def skip_cycle(self, box: InstanceBox, now: datetime) -> list[Record]:
        inst = box.instance
        if inst["status"] == InstanceStatus.CANCELED:
            raise OperationError(f"instance {inst['sid']} is cancelled; there is no cycle to skip")
        if box.state.get("ended"):
            raise OperationError(f"instance {inst['sid']} has no further cycles")
        changed = []
        for event in box.events.values():
            if (
                event.get("createdCycle") == inst["cycle"]
                and kind_of(event) in SCHEDULED_KINDS
                and not is_terminal(event)
            ):
                event.update(status=EventStatus.CANCELED, cancelReason=CancelReason.SKIP_CYCLE)
                box.touch(event, now)
                changed.append(event)
        self.advance(box, now)
        return changed

    def trigger(self, box: InstanceBox, event: Record, now: datetime) -> None:
        if event["status"] != EventStatus.ONHOLD or event.get("_awaiting"):
            why = (
                "waits for an asynchronous result (use `event resume`)"
                if event.get("_awaiting")
                else "not ONHOLD"
            )
            raise OperationError(f"event {event['sid']} is {event['status']}: {why}")
        event["status"] = EventStatus.PENDING
        box.touch(event, now)
        self._refresh(box, now)

    # --- helpers --------------------------------------------------------------------------

    def context(self, box: InstanceBox, event: Record | None = None) -> dict[str, Any]:
        inst = box.instance
        return {
            "instance": inst,
            "attributes": inst.get("attributes") or {},
            "cycle": inst.get("cycle"),
            "event": event,
            "steps": {},
        }

    def _refresh(self, box: InstanceBox, now: datetime) -> None:
        if not self.defer_refresh:
            self.refresh(box, now)

    def refresh(self, box: InstanceBox, now: datetime) -> None:
        """Recompute the instance's nextEvent (O(events): a simulation defers it to the end)."""
        open_events = [e for e in box.events.values() if not is_terminal(e)]
        if open_events:
            first = min(open_events, key=lambda e: (_instant(e["date"]), e.get("_seq", 0)))
            box.instance["nextEvent"] = {"sid": first["sid"], "date": first["date"]}
        else:
            box.instance["nextEvent"] = None
        box.instance["updatedAt"] = iso(now)

    def is_runnable(self, box: InstanceBox, event: Record) -> bool:
        status = box.instance["status"]
        if event["status"] != EventStatus.PENDING:
            return False
        return status == InstanceStatus.ACTIVE or (
            status == InstanceStatus.CANCELED and bool(event.get("afterCancellation"))
        )


def _policy(step: Step | None, task_policy: RetryConfig | None) -> RetryConfig:
    """The failing step's retry policy, else its task's; none at all is exactly `times: 0`."""
    if step is not None and step.retryConfig is not None:
        return step.retryConfig
    return task_policy if task_policy is not None else NO_RETRIES


NO_RETRIES = RetryConfig(times=0)


def _as_delay(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return RetryDelay(unit="minutes", amount=int(value))
    if isinstance(value, dict):
        return RetryDelay.model_validate(value)
    if isinstance(value, RetryDelay):
        return value
    raise CallbackError(f"retryEventCallback returned {value!r}, not a delay or minutes")


def _history(event: Record, outcome: str, at: str, message: str | None = None) -> dict[str, Any]:
    return {
        "attempt": event.get("attempt"),
        "date": event["date"],
        "at": at,
        "outcome": outcome,
        "message": message,
    }


def _ms(later: datetime, earlier: datetime) -> int:
    if later is earlier:  # e.g. a simulated attempt takes no time
        return 0
    return int((later - earlier).total_seconds() * 1000)


def _wall(values: list[Any]) -> WallTime:
    return WallTime(*values)
