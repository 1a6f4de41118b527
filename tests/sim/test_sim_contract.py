"""The output contract of `strategy simulate`: the JSON document, iCalendar, the timeline, the
portfolio mode, and how bad inputs are reported (exit codes, file:line, never a traceback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, SHARED
from simkit import cli, strategy, write

LOAN = SAMPLES / "loan-collection.yaml"
LOAN_ATTRS = {
    "loanId": "L1",
    "customerEmail": "a@b.c",
    "firstDueDate": "2026-01-31T00:00:00+01:00",
    "amountCents": 1000,
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
INSTANTS = {
    "createdAt",
    "updatedAt",
    "date",
    "scheduledAt",
    "executedAt",
    "finishedAt",
    "startDate",
    "endDate",
    "executionDate",
}
NOTE_KINDS = {"dst-gap", "dst-fold", "month-clamp", "leading-up-skipped"}
# Values that are user or service data: their keys are not the platform's field names.
FREE_FORM = {"attributes", "data", "afterResumeData", "overrides", "request", "response"}


def reference_names() -> set[str] | None:
    """Field names of the API reference; None where ../shared is absent (names then unchecked)."""
    path = SHARED / "reference" / "execution-api-get-pending-tasks.txt"
    if not path.is_file():
        return None
    text = path.read_text("utf-8")
    line = re.compile(
        r"^\s*(?:•\s*)?([a-z][A-Za-z]*)(?:\s+(?:string|number|boolean|date-time|object|integer)\w*)?\s*$"
    )
    names = {m.group(1) for m in map(line.match, text.splitlines()) if m}
    return names - {"object", "oneOf", "required", "string"}


REFERENCE = reference_names()


def check_record(value: Any, where: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_record(item, f"{where}[{i}]")
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        assert not key.startswith("_"), f"{where}.{key}: engine-private key in output"
        if REFERENCE is not None:
            assert key in REFERENCE, f"{where}.{key}: not a field name of the API reference"
        if key in INSTANTS or (where.endswith("nextEvent") and key == "date"):
            assert isinstance(item, str) and RFC3339.match(item), f"{where}.{key} = {item!r}"
            assert datetime.fromisoformat(item).utcoffset() is not None
        if key not in FREE_FORM:
            check_record(item, f"{where}.{key}")


def check_contract(doc: dict[str, Any]) -> None:
    assert set(doc) == {"instance", "events", "notes"}
    check_record(doc["instance"], "instance")
    for i, event in enumerate(doc["events"]):
        check_record(event, f"events[{i}]")
        assert event["instanceSid"] == doc["instance"]["sid"]
        if "executedAt" in event:  # the virtual clock never runs an event before it exists
            created, executed = (
                datetime.fromisoformat(event[k]) for k in ("createdAt", "executedAt")
            )
            assert created <= executed, event
            assert event["scheduleDelta"] >= 0
    instants = [datetime.fromisoformat(e["date"]) for e in doc["events"]]
    assert instants == sorted(instants), "events are ordered by date"
    sids = {e["sid"] for e in doc["events"]}
    for note in doc["notes"]:
        assert set(note) == {"kind", "message", "eventSid"}
        assert note["kind"] in NOTE_KINDS
        assert isinstance(note["message"], str) and note["message"]
        assert note["eventSid"] is None or note["eventSid"] in sids


def rich_strategy() -> dict[str, Any]:
    """Leading-ups (one skipped), a DST gap, month ends, lifecycle tasks, retries, cancelling."""
    leads = [{"task": "remind", "scheduleBefore": {"unit": "days", "amount": 3}}]
    cals = [
        {
            "key": "first",
            "runOnCycle": 1,
            "scheduleAfter": {"unit": "days", "amount": 1, "resetTo": {"hour": 2, "minute": 30}},
            "task": "t",
            "leadingUpTasks": leads,
        },
        {
            "key": "monthly",
            "scheduleAfter": {"unit": "months", "amount": 1, "resetTo": {"day": 31}},
            "task": "t",
            "leadingUpTasks": leads,
        },
    ]
    t = {
        "key": "t",
        "retryConfig": {"times": 1, "retryAfter": {"unit": "hours", "amount": 4}},
        "steps": [
            {"key": "a", "action": "do", "nextStep": "b"},
            {"key": "b", "action": "wait", "final": True},
        ],
        "initialStep": "a",
    }
    return strategy(
        cals,
        tz="Europe/Berlin",
        tasks=[t],
        onCreateTasks=[
            {"task": "hello"},
            {"task": "later", "delayBy": {"unit": "days", "amount": 200}},
        ],
        onCancelTasks=[{"task": "bye", "delayBy": {"unit": "hours", "amount": 1}}],
    )


START = "2026-03-28T12:00:00+01:00"
RICH_SCENARIO = "outcomes:\n  t.b: [ok, ok, fail, ok, fail, fail]\nresume:\n  t.b: {data: {x: 1}}\n"


def run_json(*args: str) -> dict[str, Any]:
    return cli("simulate", *args, "--db", ":memory:", "--format", "json").json()


def test_json_contract_of_the_sample(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("outcomes:\n  charge.collect: [ok, fail]\n", encoding="utf-8")
    doc = run_json(
        str(LOAN), "--cycles", "4", "--start", "2026-01-10T12:00Z",
        "-a", json.dumps(LOAN_ATTRS), "--scenario", str(scenario),
    )  # fmt: skip
    check_contract(doc)
    assert doc["instance"]["status"] == "PAUSED"
    assert any("cachedTaskStatus" in e for e in doc["events"])


def test_json_contract_of_a_cancelled_instance(tmp_path: Path) -> None:
    path = write(tmp_path, rich_strategy())
    scenario = tmp_path / "s.yaml"
    scenario.write_text(RICH_SCENARIO, encoding="utf-8")
    doc = run_json(str(path), "--cycles", "6", "--start", START, "-s", str(scenario))
    check_contract(doc)
    kinds = {n["kind"] for n in doc["notes"]}
    assert kinds == {"dst-gap", "month-clamp", "leading-up-skipped"}
    assert doc["instance"]["status"] == "CANCELED"
    assert doc["instance"]["cancelReason"] == "MAX_ATTEMPTS"
    statuses = {e["task"]: e["status"] for e in doc["events"]}
    assert statuses["bye"] == "PROCESSED"
    assert statuses["later"] == "CANCELED"


def test_ics_has_one_vevent_per_event(tmp_path: Path) -> None:
    icalendar = pytest.importorskip("icalendar")
    path = write(tmp_path, rich_strategy())
    scenario = tmp_path / "s.yaml"
    scenario.write_text(RICH_SCENARIO, encoding="utf-8")
    common = [str(path), "--cycles", "6", "--start", START, "-s", str(scenario)]
    doc = run_json(*common)
    result = cli("simulate", *common, "--db", ":memory:", "--format", "ics")
    assert result.code == 0, result.err
    cal = icalendar.Calendar.from_ical(result.out.encode())
    vevents = list(cal.walk("VEVENT"))
    assert len(vevents) == len(doc["events"])
    assert len({str(v["uid"]) for v in vevents}) == len(vevents)
    # (a second run: new sids, same schedule) each VEVENT is at its event's instant, aware
    starts = [v.decoded("dtstart") for v in vevents]
    assert all(start.utcoffset() is not None for start in starts)
    assert sorted(
        (str(v["summary"]).split(" ")[0], v.decoded("dtstart")) for v in vevents
    ) == sorted((e["task"], datetime.fromisoformat(e["date"])) for e in doc["events"])


ANSI = re.compile(r"\x1b\[")


def test_timeline_fits_80_columns_without_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, rich_strategy())
    scenario = tmp_path / "s.yaml"
    scenario.write_text(RICH_SCENARIO, encoding="utf-8")
    result = cli(
        "simulate", str(path), "--cycles", "6", "--start", START,
        "-s", str(scenario), "--db", ":memory:", env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert not ANSI.search(result.out + result.err)
    text = result.out
    for expected in ("Cycle 1", "Cycle 2", "DST gap", "month end", "CANCELED"):
        assert expected in text
    failed = [line.split() for line in lines if "↳" in line]
    assert failed and all(words[-2] == "FAILED" for words in failed), text
    # Attempt 1 is never a retry; each later one is.
    assert all(words[-3] == ("attempt" if words[-1] == "1" else "retry") for words in failed), text
    assert failed[0][-1] == "1", failed  # the attempt that failed
    assert "simulated instance:" in result.err


def test_table_format(tmp_path: Path) -> None:
    path = write(tmp_path, rich_strategy())
    result = cli(
        "simulate", str(path), "--cycles", "2", "--start", START,
        "--db", ":memory:", "--format", "table", env={"COLUMNS": "100"},
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "leading-up" in result.out and "PROCESSED" in result.out
    assert not ANSI.search(result.out)


def _pty_run(args: list[str], env: dict[str, str]) -> str:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "strategy_cli", *args],
        stdout=slave,
        stderr=slave,
        env={**full_env, "COLUMNS": "80", **env},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_color_on_a_tty_has_no_escapes(tmp_path: Path) -> None:
    path = write(tmp_path, rich_strategy())
    args = ["simulate", str(path), "--cycles", "2", "--start", START]
    args += ["--db", ":memory:"]
    assert ANSI.search(_pty_run(args, {})), "a TTY gets colour (sanity check of the harness)"
    assert not ANSI.search(_pty_run(args, {"NO_COLOR": "1"}))


def test_db_path_keeps_the_simulation(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    args = [
        str(LOAN),
        "--cycles",
        "2",
        "--start",
        "2026-01-10T12:00Z",
        "-a",
        json.dumps(LOAN_ATTRS),
    ]
    result = cli("simulate", *args, "--db", str(db), "--format", "json")
    assert result.code == 0, result.err
    assert db.is_file() and db.stat().st_size > 0


def test_portfolio_with_forecast(tmp_path: Path) -> None:
    lines = tmp_path / "attrs.jsonl"
    scenario = tmp_path / "s.yaml"  # receipt-mail quotes the charge's response: script one
    scenario.write_text(
        "outcomes:\n  charge.collect: {body: {chargeId: c-1, status: captured}}\n", encoding="utf-8"
    )
    rows = [
        {"attributes": {**LOAN_ATTRS, "loanId": f"L{i}"}, "start": "2026-01-10T12:00Z"}
        for i in range(3)
    ]
    lines.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n", encoding="utf-8")
    result = cli(
        "simulate", str(LOAN), "--cycles", "2", "--instances-file", str(lines), "--forecast",
        "--db", str(tmp_path / "p.db"), "--format", "json", "--scenario", str(scenario),
    )  # fmt: skip
    doc = result.json()
    assert doc["instances"] == 3
    assert doc["events"] == 15  # cycle 1: remind + charge; cycle 2: two reminds + charge
    assert [(r["date"], r["service"], r["method"], r["calls"]) for r in doc["forecast"]] == [
        ("2026-01-28", "messaging", "send", 3),
        ("2026-01-31", "messaging", "send", 3),
        ("2026-01-31", "payments", "charge", 3),
        ("2026-02-25", "messaging", "send", 3),
        ("2026-02-27", "messaging", "send", 3),
        ("2026-02-28", "messaging", "send", 3),
        ("2026-02-28", "payments", "charge", 3),
    ]


def test_portfolio_bad_line_names_its_line(tmp_path: Path) -> None:
    lines = tmp_path / "attrs.jsonl"
    good = json.dumps({"attributes": LOAN_ATTRS, "start": "2026-01-10T12:00Z"})
    lines.write_text(f"{good}\n{{oops\n", encoding="utf-8")
    result = cli("simulate", str(LOAN), "--instances-file", str(lines), "--db", ":memory:")
    assert result.code == 1
    assert f"{lines}:2:" in result.err


# --- bad inputs: real processes, so a traceback would show ------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strategy_cli", *args], capture_output=True, text=True, timeout=60
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_bad_json_in_attributes_is_a_usage_error() -> None:
    proc = run("simulate", str(LOAN), "--db", ":memory:", "--attributes", "{bad json")
    assert_clean_failure(proc, 2)
    assert "--attributes" in proc.stderr


def test_attributes_failing_instance_validation(tmp_path: Path) -> None:
    proc = run("simulate", str(LOAN), "--db", ":memory:", "-a", json.dumps({"loanId": 7}))
    assert_clean_failure(proc, 1)
    assert "instanceValidation" in proc.stderr
    assert "/loanId" in proc.stderr and "customerEmail" in proc.stderr


def test_bad_start_is_a_usage_error() -> None:
    proc = run(
        "simulate",
        str(LOAN),
        "--db",
        ":memory:",
        "-a",
        json.dumps(LOAN_ATTRS),
        "--start",
        "tomorrow",
    )
    assert_clean_failure(proc, 2)
    assert "--start" in proc.stderr


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("outcomes:\n  charge.collect: fail\nretries: 3\n", 3),  # unknown key
        ("callbacks: {}\nmanual: sometimes\n", 2),  # wrong value
        ("outcomes:\n  charge.collect:\n    - ok\n    - maybe\n", 4),  # wrong item
        ("resume:\n  charge.collect: {after: {unit: weeks, amount: 1}}\n", 2),  # wrong type
        ("outcomes: [fail]\n", 1),  # wrong type
        ("manual: hold\noutcomes:\n  charge.colect: fail\n", 3),  # no such task.step
        ("resume:\n  remind.nope: {}\n", 2),  # no such task.step
        ("callbacks:\n  isVip: true\n", 2),  # a callback the strategy does not name
    ],
)
def test_bad_scenario_file_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    scenario = tmp_path / "what-if.yaml"
    scenario.write_text(text, encoding="utf-8")
    proc = run(
        "simulate", str(LOAN), "--db", ":memory:", "-a", json.dumps(LOAN_ATTRS), "-s", str(scenario)
    )
    assert_clean_failure(proc, 1)
    assert f"{scenario}:{line}:" in proc.stderr


def test_strategy_with_errors_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(LOAN.read_text("utf-8").replace("unit: days", "unit: dayz", 1), encoding="utf-8")
    line = next(
        n for n, text in enumerate(bad.read_text("utf-8").splitlines(), 1) if "dayz" in text
    )
    proc = run("simulate", str(bad), "--db", ":memory:", "-a", json.dumps(LOAN_ATTRS))
    assert_clean_failure(proc, 1)
    assert re.search(rf"{re.escape(str(bad))}:{line}:\d+:", proc.stderr), proc.stderr


def test_missing_from_attribute_is_reported(tmp_path: Path) -> None:
    cals = [
        {
            "key": "c",
            "scheduleAfter": {"unit": "days", "amount": 0, "from": "dueDate"},
            "task": "t",
        }
    ]
    path = write(tmp_path, strategy(cals))
    proc = run("simulate", str(path), "--db", ":memory:", "--start", "2026-01-01T00:00:00Z")
    assert_clean_failure(proc, 1)
    assert "dueDate" in proc.stderr
