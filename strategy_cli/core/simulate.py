"""Simulation (docs/semantics.md section 10): the engine on a virtual clock, with scripted outcomes.

No sleeping and no network: the clock jumps from one due event to the next.
"""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import datetime
from operator import itemgetter
from typing import Any

from . import jtd
from .attempt import StepCall, StepOutcome, run_controller
from .callbacks import Callbacks
from .domain import WAITING_EVENT_STATUSES, EventStatus, NoteKind
from .engine import Engine, InstanceBox
from .models import Settings
from .records import Record, instant_of, parse_iso
from .redaction import Redactor
from .requests import RequestError, build, lookup_action
from .scenario import Scenario, Script, ScriptedCallbacks
from .timecalc import WallTime, shift, wall_of

# A strategy whose retries reset forever would never finish; a year of events is far below this.
MAX_ACTIONS = 100_000
_QUEUED = WAITING_EVENT_STATUSES


class ScenarioExecutor:
    """Steps succeed unless the scenario says otherwise; requests are built but never sent."""

    def __init__(self, settings: Settings, script: Script, env: str | None) -> None:
        self.settings = settings
        self.script = script
        self.env = env
        # (local day, service, method) -> calls; set by portfolio forecasts
        self.calls: Counter[tuple[str, str, str]] | None = None
        # Portfolios skip rendering each request: thousands of instances, nobody reads them.
        self.describe_requests = True
        self._actions: dict[str, Any] = {}
        # Simulated requests are shown and stored too: secret headers never appear in them.
        config = settings.config
        self.redactor = Redactor(config.redact or [] if config else [])

    def execute(self, call: StepCall, callbacks: Callbacks) -> StepOutcome:
        step, script = call.step, self.script
        # Most scenarios script no outcome: skip formatting the key then.
        scripted = (
            script.next_outcome(f"{call.task.key}.{step.key}") if script.scenario.outcomes else None
        )
        action = step.action
        if not action:
            return scripted or run_controller(call, callbacks)
        try:
            # Looked up once per action, not once per step run.
            found = self._actions.get(action)
            if found is None:
                found = self._actions[action] = lookup_action(self.settings, action)
            _, service, method = found
            described = self._describe(call) if self.describe_requests else None
        except RequestError as exc:
            return StepOutcome(False, message=str(exc))
        outcome = scripted or StepOutcome(True)
        if self.calls is not None:
            day = str(call.event.get("executedAt") or call.event["date"])[:10]
            self.calls[(day, service.key, method.key)] += 1
        if described is not None:
            response = {"status": 200 if outcome.success else 500, "body": outcome.data}
            if outcome.httpData and "response" in outcome.httpData:
                response.update(outcome.httpData["response"])
            outcome.httpData = {"request": described, "response": response}
        if method.responseValidation is not None:
            _check_response(outcome, method.responseValidation)
        outcome.hold = outcome.success and bool(method.async_)
        return outcome

    def _describe(self, call: StepCall) -> dict[str, Any]:
        # Unscripted steps return no body, so `{{ steps.X.data... }}` may not resolve here:
        # it is shown as written instead of failing a step that would succeed for real.
        request = build(self.settings, str(call.step.action), call.context(), self.env, _LENIENT)
        return self.redactor.scrub_request(request.describe())


_LENIENT = frozenset({"steps"})


_first = itemgetter(0)


def _check_response(outcome: StepOutcome, schema: Any) -> None:
    if outcome.success and schema is not None and outcome.data is not None:
        problems = jtd.describe(schema, outcome.data)
        if problems:
            outcome.success = False
            outcome.message = "response fails responseValidation: " + problems[0]


class Simulation:
    def __init__(
        self, strategy: Record, settings: Settings, scenario: Scenario, cycles: int
    ) -> None:
        self.script = Script(scenario)
        self.scenario = scenario
        self.engine = Engine(strategy, settings, ScriptedCallbacks(self.script), cycle_limit=cycles)
        self.executor = ScenarioExecutor(settings, self.script, scenario.environment)
        self.queue: list[tuple[datetime, int, str, str]] = []
        self.seq = 0
        self.latest: dict[tuple[str, str], int] = {}
        # The virtual clock: an event created already due (a late cycle) runs now, not in the past.
        self.clock: datetime | None = None

    def run(
        self, attributes: dict[str, Any], start: datetime, intended: WallTime | None = None
    ) -> InstanceBox:
        self.engine.defer_refresh = True
        box = self.engine.create(attributes, start, now=start, intended=intended)
        box.instance["_simulated"] = True
        self.clock = start
        self._enqueue(box)
        queue, latest = self.queue, self.latest
        for _ in range(MAX_ACTIONS):
            if not queue:
                break
            when, seq, action, sid = heapq.heappop(queue)
            self.clock = when
            if latest.get((action, sid)) == seq:  # older entries were superseded
                self._act(box, action, sid, when)
            self._enqueue(box)
        else:
            box.note(NoteKind.LIMIT, f"simulation stopped after {MAX_ACTIONS} actions", None)
        self.engine.refresh(box, self.clock)
        return box

    def _push(self, when: datetime, action: str, sid: str) -> None:
        if self.clock is not None and when < self.clock:
            when = self.clock
        self.seq += 1
        self.latest[(action, sid)] = self.seq
        heapq.heappush(self.queue, (when, self.seq, action, sid))

    def _enqueue(self, box: InstanceBox) -> None:
        changed = box.changed
        if changed:
            box.changed = []
            # Only PENDING and ONHOLD events are queued: the others need no sorting. Each date
            # is parsed once, for the sort and the queue.
            queued = [(parse_iso(e["date"]), e) for e in changed if e["status"] in _QUEUED]
            # By date, so events that are late run in date order (a cycle's leading-ups first).
            if len(queued) > 1:
                queued.sort(key=_first)
            for when, event in queued:
                status = event["status"]
                if status == EventStatus.PENDING:
                    self._push(when, "run", event["sid"])
                elif status == EventStatus.ONHOLD and event.get("_awaiting"):
                    self._push(self._resume_time(event), "resume", event["sid"])
                elif status == EventStatus.ONHOLD and self.scenario.manual == "trigger":
                    self._push(when, "trigger", event["sid"])
        if box.state.get("taskless") and box.state.get("queuedTaskless") != box.instance["cycle"]:
            box.state["queuedTaskless"] = box.instance["cycle"]
            self._push(parse_iso(box.instance["executionDate"]), "advance", "")

    def _resume_time(self, event: Record) -> datetime:
        spec = self.scenario.resume.get(f"{event['task']}.{event['taskStatus']['lastStep']}")
        now = datetime.fromisoformat(event["updatedAt"])
        if spec is None or spec.after.amount == 0:
            return now
        zone = self.engine.zone
        target = shift(wall_of(now, zone), spec.after, zone)
        from .timecalc import resolve

        return resolve(target, zone)[0]

    def _act(self, box: InstanceBox, action: str, sid: str, when: datetime) -> None:
        engine = self.engine
        if action == "advance":
            engine.advance_taskless(box, when)
            return
        event = box.events[sid]
        if action == "run":
            if instant_of(event["date"]) <= when and engine.is_runnable(box, event):
                engine.execute(box, event, self.executor, when)
        elif (
            action == "trigger"
            and event["status"] == EventStatus.ONHOLD
            and not event.get("_awaiting")
        ):
            engine.trigger(box, event, when)
        elif (
            action == "resume" and event["status"] == EventStatus.ONHOLD and event.get("_awaiting")
        ):
            spec = self.scenario.resume.get(f"{event['task']}.{event['taskStatus']['lastStep']}")
            engine.resume_event(box, event, spec.data if spec else None, when)
            engine.execute(box, event, self.executor, when)


def simulate(
    strategy: Record,
    settings: Settings,
    attributes: dict[str, Any],
    start: datetime,
    *,
    cycles: int = 12,
    scenario: Scenario | None = None,
    intended: WallTime | None = None,
) -> InstanceBox:
    simulation = Simulation(strategy, settings, scenario or Scenario(), cycles)
    return simulation.run(attributes, start, intended)


def document(box: InstanceBox) -> dict[str, Any]:
    """The `{"instance", "events", "notes"}` document of simulate/timeline --format json."""
    from .records import public

    return {
        "instance": public(box.instance),
        "events": [public(e) for e in box.ordered_events()],
        "notes": list(box.state.get("notes", [])),
    }
