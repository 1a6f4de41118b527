"""Engine rules that `strategy simulate` has no flag for: an instance's endDate, and an async
method's ONHOLD state between acknowledgement and resume."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simkit import strategy

from strategy_cli.core.engine import Engine
from strategy_cli.core.models import Settings
from strategy_cli.core.scenario import Scenario, Script, ScriptedCallbacks
from strategy_cli.core.simulate import ScenarioExecutor, Simulation, document

RECORD = {"sid": "strategy-under-test", "name": "engine", "version": 1}
DAILY = [{"key": "daily", "scheduleAfter": {"unit": "days", "amount": 1}, "task": "t"}]


def settings_of(doc: dict[str, Any]) -> Settings:
    return Settings.model_validate(doc["settings"])


def test_end_date_stops_the_schedule() -> None:
    sim = Simulation(RECORD, settings_of(strategy(DAILY)), Scenario(), cycles=10)
    create = sim.engine.create
    end = datetime.fromisoformat("2026-05-04T08:00:00+00:00")
    sim.engine.create = lambda attrs, start, **kw: create(attrs, start, end=end, **kw)  # type: ignore[method-assign]
    doc = document(sim.run({}, datetime.fromisoformat("2026-05-01T08:00:00+00:00")))
    # a cycle exactly at the end date still runs; the next one would fall after it
    assert [e["date"] for e in doc["events"]] == [
        "2026-05-02T08:00:00+00:00",
        "2026-05-03T08:00:00+00:00",
        "2026-05-04T08:00:00+00:00",
    ]
    assert doc["instance"]["cycle"] == 3
    assert doc["instance"]["endDate"] == "2026-05-04T08:00:00+00:00"
    assert doc["instance"]["status"] == "ACTIVE"
    assert "nextEvent" not in doc["instance"]


def test_async_event_is_onhold_until_resumed() -> None:
    steps = [
        {"key": "kyc", "action": "wait", "nextStep": "done"},
        {"key": "done", "action": "do", "final": True},
    ]
    doc = strategy(DAILY, tasks=[{"key": "t", "steps": steps, "initialStep": "kyc"}])
    settings = settings_of(doc)
    script = Script(Scenario())
    engine = Engine(RECORD, settings, ScriptedCallbacks(script))
    executor = ScenarioExecutor(settings, script, None)
    start = datetime.fromisoformat("2026-01-05T09:00:00+00:00")
    box = engine.create({}, start, now=start)
    (event,) = box.events.values()
    due = datetime.fromisoformat(event["date"])
    assert engine.execute(box, event, executor, due) == "ONHOLD"
    assert event["status"] == "ONHOLD"
    assert event["taskStatus"]["lastStep"] == "kyc"
    assert box.instance["cycle"] == 1  # not processed: the cycle does not advance
    later = datetime.fromisoformat("2026-01-06T15:00:00+00:00")
    engine.resume_event(box, event, {"approved": True}, later)
    assert event["status"] == "PENDING"  # resuming makes the event due again
    engine.execute(box, event, executor, later)
    assert event["status"] == "PROCESSED"
    results = event["taskStatus"]["taskResults"]
    assert [r["step"] for r in results] == ["kyc", "done"]
    assert results[0]["afterResumeData"] == {"approved": True}
    assert box.instance["cycle"] == 2
