"""Helpers for the simulation tests: build small strategies, run `strategy simulate` in-process.

Expected values in the tests are written literally; nothing here computes dates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from clikit import run_main

cli = run_main  # `strategy ARGS` in this process, through the real main()


# --- strategy documents -----------------------------------------------------------------------

SERVICE = {
    "key": "svc",
    "baseUrls": [{"environment": "sandbox", "url": "https://svc.example.com"}],
    "methods": [
        {"key": "call", "url": "/call", "method": "post"},
        {"key": "slow", "url": "/slow", "method": "post", "async": True},
        {
            "key": "checked",
            "url": "/checked",
            "method": "post",
            "responseValidation": {"properties": {"chargeId": {"type": "string"}}},
        },
    ],
}
ACTIONS = [
    {"key": "do", "service": "svc", "method": "call"},
    {"key": "wait", "service": "svc", "method": "slow"},
    {"key": "check", "service": "svc", "method": "checked"},
]


def simple_task(key: str) -> dict[str, Any]:
    """A task whose one step calls the `do` action and ends."""
    return {
        "key": key,
        "steps": [{"key": "go", "action": "do", "final": True}],
        "initialStep": "go",
    }


def strategy(
    calendars: list[dict[str, Any]],
    *,
    tz: str = "UTC",
    tasks: list[dict[str, Any]] | None = None,
    config: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A strategy document; tasks named by calendars/lifecycle items get `simple_task`."""
    tasks = list(tasks or [])
    named = {t["key"] for t in tasks}
    wanted: list[str] = []
    for cal in calendars:
        wanted += [cal["task"]] if cal.get("task") else []
        wanted += [lead["task"] for lead in cal.get("leadingUpTasks", [])]
    for item in settings.get("onCreateTasks", []) + settings.get("onCancelTasks", []):
        wanted.append(item["task"])
    for key in wanted:
        if key not in named:
            tasks.append(simple_task(key))
            named.add(key)
    schedule: dict[str, Any] = {"calendars": calendars}
    if "initialDelay" in settings:
        schedule["initialDelay"] = settings.pop("initialDelay")
    return {
        "name": "sim-test",
        "settings": {
            "config": {"timezone": tz, **(config or {})},
            "schedule": schedule,
            "services": [SERVICE],
            "actions": ACTIONS,
            "tasks": tasks,
            **settings,
        },
    }


def write(directory: Path, doc: dict[str, Any], name: str = "strategy.json") -> Path:
    path = directory / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def simulate_json(
    directory: Path,
    doc: dict[str, Any],
    *,
    start: str,
    cycles: int = 3,
    attributes: dict[str, Any] | None = None,
    scenario: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`strategy simulate --format json` of `doc`; the parsed document."""
    args = [str(write(directory, doc)), "--cycles", str(cycles), "--start", start]
    args += ["--db", ":memory:", "--format", "json"]
    if attributes is not None:
        args += ["--attributes", json.dumps(attributes)]
    if scenario is not None:
        spath = directory / "scenario.yaml"
        spath.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
        args += ["--scenario", str(spath)]
    return cli("simulate", *args).json()


def dates(doc: dict[str, Any], task: str | None = None, **match: Any) -> list[str]:
    return [e["date"] for e in events(doc, task, **match)]


def events(doc: dict[str, Any], task: str | None = None, **match: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in doc["events"]
        if (task is None or e["task"] == task) and all(e.get(k) == v for k, v in match.items())
    ]


def notes(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in doc["notes"] if n["kind"] == kind]


def noted_dates(doc: dict[str, Any], kind: str) -> list[str]:
    """Dates of the events that carry a note of `kind`."""
    by_sid = {e["sid"]: e["date"] for e in doc["events"]}
    return sorted(by_sid[n["eventSid"]] for n in notes(doc, kind) if n["eventSid"] in by_sid)
