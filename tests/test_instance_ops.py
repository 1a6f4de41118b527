"""Operating strategies, instances and events on a real store file (docs/semantics.md sections 3, 4 and 11).

Two layers: the real `main()` in-process (every command, every bad input), and
`python -m strategy_cli` subprocesses for what a user sees (exit codes, one-line errors, no
traceback), an end-to-end scenario, and two processes writing one store at once.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from clikit import Result, run_main
from conftest import SAMPLES

from strategy_cli.adapters.store import Store

LOAN = SAMPLES / "loan-collection.yaml"
ONBOARDING = SAMPLES / "onboarding.yaml"
LOAN_ATTRS = {
    "loanId": "L1",
    "customerEmail": "a@b.c",
    "firstDueDate": "2026-01-31T00:00:00+01:00",
    "amountCents": 1000,
}
ONBOARDING_ATTRS = {
    "merchantId": "m-1",
    "legalName": "ACME GmbH",
    "registrationNumber": "HRB 1",
    "country": "DE",
    "email": "ops@acme.example",
    "signedUpAt": "2026-03-02T10:00:00Z",
}
START = "2026-01-01T00:00:00+01:00"

# Field names of the platform's get-tasks response (../shared/reference/...get-pending-tasks.txt).
EVENT_FIELDS = {
    "createdAt", "updatedAt", "sid", "instanceSid", "strategySid", "status", "main",
    "afterCancellation", "task", "date", "data", "scheduledAt", "scheduleDelta", "executedAt",
    "executionDelta", "createdCycle", "finishedAt", "finishDelta", "executionTime", "attempt",
    "jobId", "correlationId", "taskStatus", "cachedTaskStatus", "errorMessage", "cancelReason",
    "serverLockOwner", "lockOwner", "execStrategyVersion", "resumeStrategyVersion", "instance",
    "strategy",
}  # fmt: skip
EVENT_REQUIRED = {"sid", "instanceSid", "strategySid", "status", "main", "task", "date"}
INSTANCE_FIELDS = {
    "createdAt", "updatedAt", "sid", "description", "strategyId", "status", "cycle", "startDate",
    "endDate", "executionDate", "executionDay", "attributes", "nextEvent", "cancelReason",
    "strategy",
}  # fmt: skip
INSTANCE_REQUIRED = {
    "sid", "strategyId", "status", "cycle", "startDate", "executionDate", "executionDay",
}  # fmt: skip
STRATEGY_FIELDS = {
    "createdAt", "updatedAt", "sid", "name", "description", "secret", "version", "settings",
}  # fmt: skip
STRATEGY_REQUIRED = {"sid", "name", "secret", "settings"}
EVENT_STATUSES = {
    "ONHOLD", "PENDING", "QUEUED", "EXECUTING", "PROCESSED", "FAILED", "CANCELED", "PAUSED",
}  # fmt: skip
EVENT_CANCEL_REASONS = {
    "INSTANCE_CANCEL_TASK_REQUESTED", "CANCEL_INSTANCE", "SKIP_CYCLE", "RESUME_MAIN_EVENT",
}  # fmt: skip
INSTANCE_CANCEL_REASONS = {
    "HTTP_REQUEST",
    "CONTROLLER_HELPER",
    "MAX_ATTEMPTS",
    "CREATE_CYCLE_ERROR",
}
TERMINAL = {"PROCESSED", "FAILED", "CANCELED"}


# --- running the CLI ------------------------------------------------------------------------------


def cli(*args: str | Path) -> Result:
    """`strategy ARGS` in this process, through the real main()."""
    return run_main(*args)


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`strategy ARGS` as a user runs it, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "strategy_cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=60,
    )


def run_json(*args: str | Path) -> Any:
    proc = run(*args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word in errors[0] or word in proc.stderr, (word, proc.stderr)


def assert_no_private_keys(value: Any, where: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert not str(key).startswith("_"), f"{where}.{key} is engine-private"
            assert_no_private_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_private_keys(item, f"{where}[{i}]")


# --- stores -----------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def create(db: Path, strategy: str | Path = "loan-collection", **opts: Any) -> dict[str, Any]:
    attrs = opts.pop("attributes", LOAN_ATTRS)
    args = ["instance", "create", str(strategy), "--attributes", json.dumps(attrs)]
    args += ["--start", opts.pop("start", START), "--db", str(db), "--format", "json"]
    for key, value in opts.items():
        args += [f"--{key}", value]
    return cli(*args).json()  # type: ignore[no-any-return]


@pytest.fixture
def loan_db(db: Path) -> Path:
    assert cli("apply", LOAN, "--db", db).code == 0
    return db


def counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("strategies", "instances", "events")
        )


def secret_copy(tmp_path: Path, secret: str = "s3cr3t-value", **config: Any) -> Path:
    """The loan sample with a literal secret (and config overrides), as a new file."""
    data = yaml.safe_load(LOAN.read_text(encoding="utf-8"))
    data["secret"] = secret
    data["settings"]["config"].update(config)
    path = tmp_path / "loan-copy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- apply, list, show ----------------------------------------------------------------------------


def test_apply_twice_is_a_noop_and_a_change_makes_a_new_version(tmp_path: Path, db: Path) -> None:
    path = secret_copy(tmp_path)
    first = cli("apply", path, "--db", db, "--format", "json").json()
    assert [r["outcome"] for r in first] == ["created"]
    assert first[0]["strategy"]["version"] == 1
    again = cli("apply", path, "--db", db)
    assert again.code == 0
    assert "unchanged (no-op), version 1" in again.stdout
    assert counts(db)[0] == 1

    changed = secret_copy(tmp_path, requestDelayTime=999)
    second = cli("apply", changed, "--db", db, "--format", "json").json()
    assert [(r["outcome"], r["strategy"]["version"]) for r in second] == [("new-version", 2)]
    assert cli("apply", changed, "--db", db, "--format", "json").json()[0]["outcome"] == (
        "unchanged"
    )

    latest = cli("show", "loan-collection", "--db", db, "--format", "json").json()
    old = cli("show", "loan-collection", "--version", "1", "--db", db, "--format", "json").json()
    assert (latest["version"], latest["settings"]["config"]["requestDelayTime"]) == (2, 999)
    assert (old["version"], old["settings"]["config"]["requestDelayTime"]) == (1, 200)
    assert latest["sid"] != old["sid"]
    listed = cli("list", "--db", db, "--format", "json").json()
    assert [(r["name"], r["version"], r["versions"]) for r in listed] == [("loan-collection", 2, 2)]
    for doc in (first, second, latest, old, listed):
        assert "s3cr3t-value" not in json.dumps(doc)
        assert_no_private_keys(doc)
    assert latest["secret"] == old["secret"] == listed[0]["secret"] == "***"

    text = cli("show", "loan-collection", "--version", "1", "--db", db)
    assert "version: 1" in text.stdout and "requestDelayTime: 200" in text.stdout
    assert "s3cr3t-value" not in text.stdout
    assert "loan-collection" in cli("list", "--db", db).stdout


def test_show_and_apply_errors(tmp_path: Path, loan_db: Path) -> None:
    typo = cli("show", "loan-colection", "--db", loan_db)
    assert typo.code == 1 and typo.error is not None
    assert typo.hint == "did you mean 'loan-collection'?"
    missing = cli("show", "loan-collection", "--version", "7", "--db", loan_db)
    assert missing.code == 1 and missing.error is not None
    assert "version 7" in missing.error and "1" in (missing.hint or "")

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsettings: {nope: 1}\n", encoding="utf-8")
    bad = cli("apply", LOAN, broken, "--db", loan_db)
    assert bad.code == 1  # any invalid file stops before writing: the valid one is not re-applied
    assert counts(loan_db)[0] == 1
    assert cli("apply", tmp_path / "absent.yaml", "--db", loan_db).code == 2
    assert "no strategies stored" in cli("list", "--db", loan_db.with_name("empty.db")).stdout


# --- instance create ------------------------------------------------------------------------------


def test_create_from_a_stored_name_and_from_a_file(tmp_path: Path, loan_db: Path) -> None:
    inst = create(loan_db, description="first loan", end="2027-01-01T00:00:00+01:00")
    assert INSTANCE_REQUIRED <= inst.keys() <= INSTANCE_FIELDS
    assert inst["status"] == "ACTIVE" and inst["cycle"] == 1
    assert inst["description"] == "first loan"
    assert inst["startDate"] == START
    assert inst["endDate"] == "2027-01-01T00:00:00+01:00"
    # Cycle 1: firstDueDate at 09:00 local; executionDay is its intended day.
    assert inst["executionDate"] == "2026-01-31T09:00:00+01:00"
    assert inst["executionDay"] == 31
    assert inst["attributes"] == LOAN_ATTRS
    assert inst["nextEvent"]["date"] == "2026-01-28T09:00:00+01:00"  # the leading-up reminder
    assert inst["strategy"]["name"] == "loan-collection"
    assert inst["strategy"]["secret"] == "***"
    assert_no_private_keys(inst)

    # A file is applied first (the same file again is no new version), in the same transaction.
    from_file = create(loan_db, LOAN, attributes={**LOAN_ATTRS, "loanId": "L2"})
    assert from_file["strategyId"] == inst["strategyId"]
    other = create(loan_db, ONBOARDING, attributes=ONBOARDING_ATTRS)
    assert other["strategy"]["name"] == "merchant-onboarding"
    assert counts(loan_db)[:2] == (2, 3)

    text = cli(
        "instance", "create", "loan-collection", "-a", json.dumps(LOAN_ATTRS), "--db", loan_db
    )
    assert text.code == 0 and len(text.stdout.strip()) == 36  # just the new sid

    attrs_file = tmp_path / "attrs.json"
    attrs_file.write_text(json.dumps(LOAN_ATTRS), encoding="utf-8")
    args = ("instance", "create", "loan-collection", "--attributes", f"@{attrs_file}")
    assert cli(*args, "--db", loan_db).code == 0
    assert counts(loan_db)[1] == 5


def test_create_rejects_bad_input_and_stores_nothing(tmp_path: Path, db: Path) -> None:
    def attempt(*args: str | Path) -> Result:
        return cli("instance", "create", *args, "--db", db)

    unknown = attempt("loan-colection")
    assert unknown.code == 1 and unknown.error is not None
    assert "no strategy 'loan-colection'" in unknown.error

    bad = {"loanId": 7, "firstDueDate": "soon", "amountCents": -1, "extra": True}
    invalid = attempt(LOAN, "--attributes", json.dumps(bad))
    assert invalid.code == 1 and invalid.error is not None
    assert "nothing was stored" in invalid.error
    for path in (
        "/loanId",
        "(root): missing required property 'customerEmail'",
        "/firstDueDate",
        "/amountCents",
        "/extra",
    ):
        assert path in invalid.stderr, (path, invalid.stderr)
    # Not even the strategy file that came with it: one transaction.
    assert not db.exists() or counts(db) == (0, 0, 0)

    assert attempt(LOAN, "--attributes", "[1, 2]").code == 1
    assert attempt(LOAN).code == 1  # required attributes missing
    assert attempt(LOAN, "--attributes", "{bad").code == 2
    assert attempt(LOAN, "--attributes", f"@{tmp_path / 'none.json'}").code == 2
    good = json.dumps(LOAN_ATTRS)
    assert attempt(LOAN, "-a", good, "--start", "yesterday").code == 2
    assert attempt(LOAN, "-a", good, "--end", "2026-13-01").code == 2
    backwards = attempt(LOAN, "-a", good, "--start", START, "--end", "2025-12-01T00:00:00Z")
    assert backwards.code == 2 and "--end" in (backwards.error or "")
    assert not db.exists() or counts(db) == (0, 0, 0)


# --- instance list, show, timeline, tasks --------------------------------------------------------


def test_list_filters(loan_db: Path) -> None:
    loan = create(loan_db)
    onboarding = create(loan_db, ONBOARDING, attributes=ONBOARDING_ATTRS)
    assert cli("instance", "cancel", loan["sid"], "--db", loan_db).code == 0
    with Store(loan_db) as store:  # a simulated instance, as `strategy simulate` leaves one
        record, state = store.get_instance(onboarding["sid"])  # type: ignore[misc]
        store.put_instance(
            {**record, "sid": "5137a7ed-0000-4000-8000-000000000000"}, state, simulated=True
        )

    def sids(*flags: str) -> list[str]:
        rows = cli("instance", "list", *flags, "--db", loan_db, "--format", "json").json()
        return [r["sid"] for r in rows]

    assert sorted(sids()) == sorted([loan["sid"], onboarding["sid"]])  # same second: by sid
    assert sids("--strategy", "loan-collection") == [loan["sid"]]
    assert sids("--strategy", loan["strategyId"]) == [loan["sid"]]
    assert sids("--status", "CANCELED") == [loan["sid"]]
    assert sids("--status", "ACTIVE") == [onboarding["sid"]]
    assert sids("--status", "PAUSED") == []
    assert sorted(sids("--simulated")) == sorted(
        [loan["sid"], onboarding["sid"], "5137a7ed-0000-4000-8000-000000000000"]
    )
    assert cli("instance", "list", "--status", "DONE", "--db", loan_db).code == 2
    text = cli("instance", "list", "--simulated", "--db", loan_db).stdout
    assert loan["sid"][:8] in text and "merchant-onboarding" in text and "yes" in text
    empty = cli("instance", "list", "--db", loan_db.with_name("other.db")).stdout
    assert "no instances" in empty


def test_show_timeline_and_tasks(loan_db: Path) -> None:
    inst = create(loan_db, ONBOARDING, attributes=ONBOARDING_ATTRS, start="2026-03-02T10:00:00Z")
    sid = inst["sid"]
    shown = cli("instance", "show", sid[:8], "--db", loan_db, "--format", "json").json()
    assert shown == {**inst, "updatedAt": shown["updatedAt"]}
    text = cli("instance", "show", sid, "--db", loan_db).stdout
    assert f"sid: {sid}" in text and "name: merchant-onboarding" in text
    assert "settings" not in text  # the text view names the strategy, it does not dump it

    tasks = cli("instance", "tasks", sid, "--db", loan_db, "--format", "json").json()
    # Both onCreate events fall on the start date (a tie the store breaks by sid).
    assert sorted((t["task"], t["status"], t["main"]) for t in tasks[:2]) == [
        ("compliance-review", "ONHOLD", False),  # manualTrigger on the onCreate item
        ("signup-confirmation", "PENDING", False),
    ]
    assert tasks[0]["date"] == tasks[1]["date"] == "2026-03-02T10:00:00+00:00"
    assert (tasks[2]["task"], tasks[2]["status"], tasks[2]["main"]) == (
        "verify-merchant",
        "PENDING",
        True,  # cycle 1: 15 minutes after signedUpAt
    )
    assert tasks[2]["date"] == "2026-03-02T10:15:00+00:00"
    check_tasks_document(tasks, sid)
    table = cli("instance", "tasks", sid, "--db", loan_db).stdout
    assert "verify-merchant" in table and "3 pending task(s)" in table

    timeline = cli("instance", "timeline", sid, "--db", loan_db, "--format", "json").json()
    assert_no_private_keys(timeline)
    assert "verify-merchant" in json.dumps(timeline)
    for fmt, marker in (
        ("timeline", "Cycle 1"),
        ("table", "verify-merchant"),
        ("ics", "BEGIN:VCALENDAR"),
    ):
        out = cli("instance", "timeline", sid, "--db", loan_db, "--format", fmt)
        assert out.code == 0 and marker in out.stdout, (fmt, out.stdout)


def check_tasks_document(tasks: list[dict[str, Any]], sid: str) -> None:
    """`instance tasks --format json` is the platform's get-tasks response, docs/semantics.md section 4."""
    assert isinstance(tasks, list)
    assert_no_private_keys(tasks)
    dates = []
    for event in tasks:
        assert EVENT_REQUIRED <= event.keys() <= EVENT_FIELDS, event.keys() - EVENT_FIELDS
        assert event["instanceSid"] == sid
        assert event["status"] in EVENT_STATUSES - TERMINAL
        assert event.get("cancelReason") in EVENT_CANCEL_REASONS | {None}
        assert isinstance(event["createdCycle"], int) and event["createdCycle"] >= 1
        inst, strategy = event["instance"], event["strategy"]
        assert INSTANCE_REQUIRED <= inst.keys() <= INSTANCE_FIELDS
        assert inst["sid"] == sid and inst["status"] in {"ACTIVE", "PAUSED", "CANCELED"}
        assert inst.get("cancelReason") in INSTANCE_CANCEL_REASONS | {None}
        for embedded in (strategy, inst["strategy"]):
            assert STRATEGY_REQUIRED <= embedded.keys() <= STRATEGY_FIELDS
            assert embedded["secret"] in ("***", "")
            assert embedded["sid"] == event["strategySid"] == inst["strategyId"]
        dates.append(event["date"])
    from datetime import datetime

    assert [datetime.fromisoformat(d) for d in dates] == sorted(map(datetime.fromisoformat, dates))


# --- operations -----------------------------------------------------------------------------------


def test_pause_resume_skip_cycle_cancel(tmp_path: Path, db: Path) -> None:
    path = secret_copy(tmp_path)
    inst = create(db, path)
    sid = inst["sid"]

    def op(verb: str) -> dict[str, Any]:
        doc: dict[str, Any] = cli("instance", verb, sid, "--db", db, "--format", "json").json()
        return doc

    def refused(verb: str, *words: str) -> None:
        out = cli("instance", verb, sid, "--db", db)
        assert out.code == 1 and out.error is not None, (verb, out)
        assert out.stderr.splitlines()[0] == f"error: {out.error}"  # one line
        for word in words:
            assert word in out.error

    refused("resume", "ACTIVE", "only a PAUSED one")
    paused = op("pause")
    assert paused["instance"]["status"] == "PAUSED"
    assert {e["status"] for e in paused["changed"]} == {"PAUSED"} and len(paused["changed"]) == 2
    refused("pause", "PAUSED", "only an ACTIVE one")

    # Skipping a cycle of a paused instance: the new cycle's events wait, paused, too.
    skipped = op("skip-cycle")
    assert skipped["instance"]["status"] == "PAUSED" and skipped["instance"]["cycle"] == 2
    by_cycle = {c: [e for e in skipped["changed"] if e["createdCycle"] == c] for c in (1, 2)}
    assert {(e["status"], e["cancelReason"]) for e in by_cycle[1]} == {("CANCELED", "SKIP_CYCLE")}
    assert sorted((e["task"], e["status"]) for e in by_cycle[2]) == [
        ("charge", "PAUSED"),
        ("remind", "PAUSED"),
        ("remind", "PAUSED"),
    ]
    # Month anchoring: the Jan 31 schedule runs on Feb 28 (clamped), then Mar 31.
    assert skipped["instance"]["executionDate"] == "2026-02-28T09:00:00+01:00"
    # the intended day (docs/semantics.md section 2)
    assert skipped["instance"]["executionDay"] == 31

    resumed = op("resume")
    assert resumed["instance"]["status"] == "ACTIVE"
    assert sorted(e["status"] for e in resumed["changed"]) == ["PENDING"] * 3

    again = op("skip-cycle")
    assert again["instance"]["cycle"] == 3
    assert again["instance"]["executionDate"] == "2026-03-31T09:00:00+02:00"  # CEST, day kept
    assert again["instance"]["executionDay"] == 31

    cancelled = op("cancel")
    assert cancelled["instance"]["status"] == "CANCELED"
    assert cancelled["instance"]["cancelReason"] == "HTTP_REQUEST"
    closing = [e for e in cancelled["changed"] if e["task"] == "close-account"]
    dropped = [e for e in cancelled["changed"] if e["task"] != "close-account"]
    assert {(e["status"], e["cancelReason"], e["createdCycle"]) for e in dropped} == {
        ("CANCELED", "CANCEL_INSTANCE", 3)
    }
    assert len(dropped) == 3
    assert [(e["status"], e["afterCancellation"], e["createdCycle"]) for e in closing] == [
        ("PENDING", True, 3)
    ]
    refused("cancel", "already cancelled")
    refused("pause", "CANCELED")
    refused("skip-cycle", "cancelled")

    tasks = cli("instance", "tasks", sid, "--db", db, "--format", "json").json()
    assert [(t["task"], t["afterCancellation"]) for t in tasks] == [("close-account", True)]
    check_tasks_document(tasks, sid)
    assert tasks[0]["instance"]["cancelReason"] == "HTTP_REQUEST"
    assert "s3cr3t-value" not in json.dumps(tasks)

    text = cli("instance", "cancel", sid, "--db", db)
    assert text.code == 1
    out = cli("instance", "pause", create(db, path)["sid"], "--db", db)
    assert out.code == 0 and "paused: now PAUSED, cycle 1" in out.stdout
    assert "PENDING -> PAUSED" in out.stdout


def test_skip_cycle_past_the_end_date_ends_the_schedule(loan_db: Path) -> None:
    inst = create(loan_db, end="2026-02-15T00:00:00+01:00")
    skipped = cli("instance", "skip-cycle", inst["sid"], "--db", loan_db, "--format", "json").json()
    assert skipped["instance"]["cycle"] == 1  # cycle 2 (Feb 28) would fall after the end date
    assert skipped["instance"]["endDate"] == skipped["instance"]["executionDate"]
    assert "nextEvent" not in skipped["instance"]
    again = cli("instance", "skip-cycle", inst["sid"], "--db", loan_db)
    assert again.code == 1 and "no further cycles" in str(again.error)
    assert cli("instance", "tasks", inst["sid"], "--db", loan_db).stdout.strip() == (
        "no pending tasks"
    )


def test_event_show_trigger_resume(loan_db: Path) -> None:
    inst = create(loan_db, ONBOARDING, attributes=ONBOARDING_ATTRS, start="2026-03-02T10:00:00Z")
    tasks = cli("instance", "tasks", inst["sid"], "--db", loan_db, "--format", "json").json()
    by_task = {t["task"]: t for t in tasks}
    held, pending = by_task["compliance-review"], by_task["signup-confirmation"]

    shown = cli("event", "show", held["sid"][:8], "--db", loan_db, "--format", "json").json()
    assert shown == {k: v for k, v in held.items() if k not in ("instance", "strategy")}
    assert "task: compliance-review" in cli("event", "show", held["sid"], "--db", loan_db).stdout

    not_held = cli("event", "trigger", pending["sid"], "--db", loan_db)
    assert not_held.code == 1 and "PENDING" in str(not_held.error)
    triggered = cli("event", "trigger", held["sid"], "--db", loan_db, "--format", "json").json()
    assert triggered["status"] == "PENDING" and triggered["sid"] == held["sid"]
    twice = cli("event", "trigger", held["sid"], "--db", loan_db)
    assert twice.code == 1 and "not ONHOLD" in str(twice.error)
    text = cli("event", "trigger", by_task["verify-merchant"]["sid"], "--db", loan_db)
    assert text.code == 1

    # An event waiting for an asynchronous method's result (as the runner leaves it).
    waiting = by_task["verify-merchant"]["sid"]
    refused = cli("event", "resume", waiting, "--data", "{}", "--db", loan_db)
    assert refused.code == 1 and "not waiting" in str(refused.error)
    with Store(loan_db) as store:
        record = store.get_event(waiting)
        assert record is not None
        store.put_events([{**record, "status": "ONHOLD", "_awaiting": True}])
    assert cli("event", "trigger", waiting, "--db", loan_db).code == 1  # resume, not trigger
    assert cli("event", "resume", waiting, "--data", "{bad", "--db", loan_db).code == 2
    resumed = cli(
        "event",
        "resume",
        waiting,
        "--data",
        '{"approved": true}',
        "--db",
        loan_db,
        "--format",
        "json",
    ).json()
    assert resumed["status"] == "PENDING" and resumed["resumeStrategyVersion"] == 1
    assert_no_private_keys(resumed)
    with Store(loan_db) as store:
        stored = store.get_event(waiting)
        assert stored is not None and stored["_resume"] == {"data": {"approved": True}}


# --- sids -----------------------------------------------------------------------------------------

TWIN_A = "abcdef12-0000-4000-8000-00000000000a"
TWIN_B = "abcdef12-0000-4000-8000-00000000000b"


def twins(db: Path, sid: str) -> None:
    """Two copies of an instance and of its first event whose sids share 13 characters."""
    with Store(db) as store:
        record, state = store.get_instance(sid)  # type: ignore[misc]
        event = store.events_of(sid)[0]
        for twin in (TWIN_A, TWIN_B):
            store.put_instance({**record, "sid": twin}, state)
            store.put_events([{**event, "sid": twin, "instanceSid": twin}])


def test_sid_resolution(loan_db: Path) -> None:
    inst = create(loan_db)
    sid = inst["sid"]
    twins(loan_db, sid)

    def show(kind: str, text: str) -> Result:
        return cli(kind, "show", text, "--db", loan_db, "--format", "json")

    assert show("instance", sid).json()["sid"] == sid
    assert show("instance", sid[:8]).json()["sid"] == sid
    assert show("instance", TWIN_A).json()["sid"] == TWIN_A  # an exact sid is never ambiguous
    for kind in ("instance", "event"):
        ambiguous = show(kind, "abcdef12-0000")
        assert ambiguous.code == 1 and ambiguous.error is not None
        assert "ambiguous" in ambiguous.error
        assert TWIN_A in ambiguous.error and TWIN_B in ambiguous.error
        short = show(kind, "abcdef1")  # 7 characters: too short even where it would be unique
        assert short.code == 1 and short.error is not None
        assert "at least 8" in short.error
    unique_but_short = show("instance", sid[:7])
    assert unique_but_short.code == 1 and unique_but_short.error is not None
    assert unique_but_short.hint == f"did you mean {sid}?"

    typo = sid[:-1] + ("0" if sid[-1] != "0" else "1")
    missing = show("instance", typo)
    assert missing.code == 1 and missing.error is not None
    assert missing.error == f"no instance '{typo}' in the store"
    assert missing.hint == f"did you mean {sid}?"
    nothing = show("event", "ffffffff-ffff")
    assert nothing.code == 1 and "no event" in str(nothing.error)
    for verb in ("timeline", "tasks", "pause", "resume", "skip-cycle", "cancel"):
        out = cli("instance", verb, "abcdef12", "--db", loan_db)
        assert out.code == 1 and "ambiguous" in str(out.error), verb
    assert cli("event", "trigger", "abcdef12", "--db", loan_db).code == 1


# --- as a user: subprocesses ----------------------------------------------------------------------


def test_end_to_end_as_a_new_user(tmp_path: Path) -> None:
    db = str(tmp_path / "e2e.db")
    path = secret_copy(tmp_path)
    applied = run_json("apply", path, "--db", db)
    assert applied[0]["outcome"] == "created" and applied[0]["strategy"]["secret"] == "***"
    assert run("apply", path, "--db", db).stdout.count("unchanged (no-op)") == 1

    attrs = tmp_path / "loan.json"
    attrs.write_text(json.dumps(LOAN_ATTRS), encoding="utf-8")
    inst = run_json(
        "instance",
        "create",
        "loan-collection",
        "--attributes",
        f"@{attrs}",
        "--start",
        START,
        "--description",
        "e2e",
        "--db",
        db,
    )
    sid = inst["sid"]
    assert (inst["status"], inst["cycle"], inst["executionDay"]) == ("ACTIVE", 1, 31)

    tasks = run_json("instance", "tasks", sid[:8], "--db", db)
    check_tasks_document(tasks, sid)
    assert [(t["task"], t["main"], t["status"], t["createdCycle"]) for t in tasks] == [
        ("remind", False, "PENDING", 1),
        ("charge", True, "PENDING", 1),
    ]
    assert tasks[0]["instance"]["strategy"]["name"] == "loan-collection"

    paused = run_json("instance", "pause", sid, "--db", db)
    assert paused["instance"]["status"] == "PAUSED"
    assert {e["status"] for e in paused["changed"]} == {"PAUSED"}
    resumed = run_json("instance", "resume", sid, "--db", db)
    assert resumed["instance"]["status"] == "ACTIVE"

    skipped = run_json("instance", "skip-cycle", sid, "--db", db)
    assert skipped["instance"]["cycle"] == 2
    assert {e["cancelReason"] for e in skipped["changed"] if e["status"] == "CANCELED"} == {
        "SKIP_CYCLE"
    }
    tasks = run_json("instance", "tasks", sid, "--db", db)
    check_tasks_document(tasks, sid)
    assert [(t["task"], t["createdCycle"]) for t in tasks] == [
        ("remind", 2),
        ("remind", 2),
        ("charge", 2),
    ]
    assert tasks[-1]["date"] == "2026-02-28T09:00:00+01:00"

    cancelled = run_json("instance", "cancel", sid, "--db", db)
    assert cancelled["instance"]["cancelReason"] == "HTTP_REQUEST"
    tasks = run_json("instance", "tasks", sid, "--db", db)
    check_tasks_document(tasks, sid)
    assert [(t["task"], t["afterCancellation"], t["createdCycle"]) for t in tasks] == [
        ("close-account", True, 2)
    ]
    timeline = run("instance", "timeline", sid, "--db", db)
    assert timeline.returncode == 0 and "CANCEL_INSTANCE" in timeline.stdout
    assert "s3cr3t-value" not in json.dumps([applied, inst, tasks, cancelled])


@pytest.fixture(scope="module")
def error_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store with an ACTIVE instance, a cancelled one, a PENDING event and sid twins."""
    db = tmp_path_factory.mktemp("errors") / "store.db"
    assert cli("apply", LOAN, "--db", db).code == 0
    active = create(db)
    cancelled = create(db)
    assert cli("instance", "cancel", cancelled["sid"], "--db", db).code == 0
    twins(db, active["sid"])
    event = cli("instance", "tasks", active["sid"], "--db", db, "--format", "json").json()[0]
    return {
        "db": str(db),
        "active": active["sid"],
        "cancelled": cancelled["sid"],
        "event": event["sid"],
    }


ERROR_CASES = [
    # (id, args, exit code, words in the message)
    ("unknown-strategy", ["instance", "create", "loan-colection"], 1, ["loan-collection"]),
    (
        "invalid-attributes",
        ["instance", "create", "loan-collection", "-a", '{"loanId": 1}'],
        1,
        ["/loanId: expected string", "customerEmail", "nothing was stored"],
    ),
    ("bad-json", ["instance", "create", "loan-collection", "-a", "{oops"], 2, ["not valid JSON"]),
    ("unknown-sid", ["instance", "show", "{typo}"], 1, ["no instance", "did you mean {active}"]),
    ("ambiguous", ["instance", "tasks", "abcdef12"], 1, ["ambiguous", TWIN_A, TWIN_B]),
    ("short-prefix", ["instance", "show", "{active7}"], 1, ["at least 8"]),
    ("resume-active", ["instance", "resume", "{active}"], 1, ["only a PAUSED one"]),
    ("cancel-twice", ["instance", "cancel", "{cancelled}"], 1, ["already cancelled"]),
    ("trigger-pending", ["event", "trigger", "{event}"], 1, ["not ONHOLD"]),
    ("unknown-option", ["instance", "list", "--bogus"], 2, ["--bogus"]),
]


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize(
    ("args", "code", "words"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_errors_are_one_line_without_traceback(
    error_store: dict[str, str], args: list[str], code: int, words: list[str]
) -> None:
    active = error_store["active"]
    values = {**error_store, "active7": active[:7], "typo": active[:-2] + "zz"}
    before = counts(Path(error_store["db"]))
    proc = run(*[_fill(a, values) for a in args], "--db", error_store["db"])
    if args[0] == "instance" and args[1] == "list":
        assert (
            proc.returncode == code and "Traceback" not in proc.stderr and "--bogus" in proc.stderr
        )
        return
    assert_one_line_error(proc, code, *[_fill(w, values) for w in words])
    assert counts(Path(error_store["db"])) == before  # nothing written


# --- two writers ----------------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from strategy_cli.cli import app as app_module

    go, db, strategy, tag, n = Path(sys.argv[1]), *sys.argv[2:5], int(sys.argv[5])
    app_module._register()
    while not go.exists():
        time.sleep(0.002)
    for i in range(n):
        attrs = {"loanId": f"{tag}-{i}", "customerEmail": "a@b.c",
                 "firstDueDate": "2026-01-31T00:00:00+01:00", "amountCents": 1000}
        args = ["instance", "create", strategy, "--attributes", json.dumps(attrs), "--db", db,
                "--description", f"{tag}-{i}"]
        app_module.app(args, standalone_mode=False)  # the command main() runs, in a loop
    """
)


def test_two_processes_creating_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"  # does not exist yet: both processes also race to create it
    go = tmp_path / "go"
    n = 20
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go), str(db), str(LOAN), tag, str(n)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    time.sleep(0.5)  # both imported and waiting
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM strategies").fetchone()[0] == 1
    with Store(db) as store:
        instances = store.list_instances()
        names = sorted(r["description"] for r in instances)
        assert names == sorted(f"{tag}-{i}" for tag in "ab" for i in range(n))
        for record in instances:
            events = store.events_of(record["sid"])
            assert events and {e["instanceSid"] for e in events} == {record["sid"]}
            assert record["nextEvent"]["sid"] in {e["sid"] for e in events}


def test_store_path_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "env" / "store.db"
    proc = run("apply", LOAN, env={"STRATEGY_DB": str(db)})
    assert proc.returncode == 0, proc.stderr
    assert counts(db)[0] == 1
    listed = run("list", "--format", "json", env={"STRATEGY_DB": str(db)})
    assert json.loads(listed.stdout)[0]["name"] == "loan-collection"


@pytest.fixture(autouse=True)
def _no_stray_store(tmp_path: Path) -> Iterator[None]:
    yield
    default = tmp_path / "xdg-data" / "strategy" / "store.db"
    assert not default.exists(), "a command wrote the default store instead of --db"
    shutil.rmtree(tmp_path / "xdg-data", ignore_errors=True)
