"""The embedded SQLite store, on real files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from strategy_cli.adapters import store as store_mod
from strategy_cli.adapters.store import (
    SCHEMA_VERSION,
    Store,
    StoreError,
    default_store_path,
    settings_digest,
    utc_key,
)
from strategy_cli.errors import StrategyError

ROOT = Path(__file__).resolve().parent.parent


def strategy(name: str = "billing", version: int = 1, sid: str | None = None) -> dict[str, Any]:
    return {
        "sid": sid or f"{name}-v{version}",
        "name": name,
        "description": "Monthly billing",
        "secret": "s3cret",
        "version": version,
        "settings": {"schedule": {"calendars": []}, "tasks": [], "version": version},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
    }


def instance(
    sid: str = "inst-1",
    strategy_sid: str = "billing-v1",
    status: str = "ACTIVE",
    created: str = "2024-01-01T10:00:00-03:00",
) -> dict[str, Any]:
    return {
        "sid": sid,
        "strategyId": strategy_sid,
        "status": status,
        "cycle": 1,
        "startDate": created,
        "executionDate": "2024-02-01T10:00:00-03:00",
        "executionDay": 1,
        "attributes": {"customer": "ACME", "amount": 12.5, "ñ": "ü"},
        "nextEvent": {"sid": "ev-1", "date": "2024-02-01T10:00:00-03:00"},
        "createdAt": created,
        "updatedAt": created,
    }


def event(
    sid: str,
    date: str,
    *,
    instance_sid: str = "inst-1",
    status: str = "PENDING",
    main: bool = True,
) -> dict[str, Any]:
    return {
        "createdAt": "2024-01-01T10:00:00-03:00",
        "updatedAt": "2024-01-01T10:00:00-03:00",
        "sid": sid,
        "instanceSid": instance_sid,
        "strategySid": "billing-v1",
        "status": status,
        "main": main,
        "afterCancellation": False,
        "task": "charge",
        "date": date,
        "data": {"k": [1, 2, {"x": None}]},
        "scheduledAt": date,
        "scheduleDelta": 12.5,
        "executedAt": date,
        "executionDelta": 3,
        "createdCycle": 1,
        "finishedAt": date,
        "finishDelta": 4,
        "executionTime": 120.25,
        "attempt": 1,
        "jobId": "job-1",
        "correlationId": "corr-1",
        "taskStatus": {
            "lastStep": "charge",
            "taskResults": [
                {"step": "charge", "success": True, "httpData": {"status": 200}, "data": {"a": 1}}
            ],
        },
        "cachedTaskStatus": None,
        "errorMessage": None,
        "cancelReason": None,
        "serverLockOwner": None,
        "lockOwner": "me",
        "execStrategyVersion": 1,
        "resumeStrategyVersion": None,
        "_kind": "main" if main else "leading-up",
        "_history": [],
    }


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "store.db") as s:
        yield s


# --- opening ----------------------------------------------------------------------------------


def test_new_store_is_wal_with_busy_timeout_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.db"
    with Store(path) as s:
        assert s.path == str(path)
        assert path.is_file()
        assert s.schema_version == SCHEMA_VERSION >= 1
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
        assert {"strategies", "instances", "events"} <= tables
        assert {"events_instance_status_date", "events_status_date"} <= tables
        assert {"instances_strategy_name", "instances_status"} <= tables


def test_queries_use_the_indexes(store: Store) -> None:
    def plan(sql: str, *params: Any) -> str:
        rows = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return " ".join(str(r[-1]) for r in rows)

    due = plan(
        "SELECT record FROM events WHERE status IN (?) AND date_utc <= ? AND simulated = 0 "
        "ORDER BY date_utc, sid LIMIT 10",
        "PENDING",
        "2024",
    )
    assert "events_status_date" in due
    of = plan(
        "SELECT record FROM events WHERE instance_sid = ? AND status NOT IN (?, ?, ?) "
        "ORDER BY date_utc, sid",
        "i",
        "PROCESSED",
        "FAILED",
        "CANCELED",
    )
    assert "events_instance_status_date" in of


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Store(path) as s:
        s.put_strategy(strategy())
        s.put_events([event("ev-1", "2024-02-01T10:00:00-03:00")])
    with Store(str(path)) as s:
        assert s.get_strategy("billing") is not None
        assert s.get_event("ev-1") is not None


def test_memory_store_keeps_nothing() -> None:
    with Store(":memory:") as s:
        assert s.path == ":memory:"
        s.put_strategy(strategy())
        assert s.get_strategy("billing") is not None
    with Store(":memory:") as s:
        assert s.get_strategy("billing") is None
    assert not Path(":memory:").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as info:
        Store(path)
    message = info.value.message
    assert str(path) in message
    assert f"newer strategy (schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION})" in message
    assert "upgrade strategy" in message
    assert isinstance(info.value, StrategyError)


def test_migrations_run_in_order_and_only_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    calls: list[int] = []

    def v2(db: Any) -> None:
        calls.append(2)
        db["events"].add_column("lane", str)

    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, v2])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION + 1
        columns = {r[1] for r in s.conn.execute("PRAGMA table_info(events)")}
        assert "lane" in columns
    Store(path).close()
    assert calls == [2]


def test_a_version_1_store_is_migrated_keeping_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:1])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 1)
    index = "SELECT sql FROM sqlite_master WHERE name = 'events_status_date'"
    with Store(path) as s:
        s.put_strategy(strategy())
        s.put_events([event("e1", "2024-01-01T00:00:00Z")])
        assert "WHERE" not in s.conn.execute(index).fetchone()[0]
    monkeypatch.undo()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION >= 2
        assert s.conn.execute(index).fetchone()[0].endswith("WHERE simulated = 0")
        assert [e["sid"] for e in s.due_events("2024-02-01T00:00:00Z")] == ["e1"]


def test_failing_migration_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"

    def broken(db: Any) -> None:
        db["events"].add_column("lane", str)
        raise sqlite3.OperationalError("boom")

    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, broken])
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="boom"):
        Store(path)
    monkeypatch.undo()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert "lane" not in {r[1] for r in s.conn.execute("PRAGMA table_info(events)")}


def test_not_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert info.value.message == f"{path} is not a strategy store (not an SQLite database)"
    assert path.read_text().startswith("these are my notes")


def test_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER)")
    with pytest.raises(StoreError, match="is not a strategy store"):
        Store(path)


def test_corrupt_store_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Store(path) as s:
        s.put_events(event(f"ev-{i}", "2024-02-01T10:00:00Z") for i in range(300))
    data = bytearray(path.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)  # keep the header, ruin every page
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info, Store(path) as s:
        s.events_of("inst-1")
    assert str(path) in info.value.message
    assert "corrupt" in info.value.message
    assert "\n" not in info.value.message


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        Store(blocker / "sub" / "store.db")
    assert "cannot create the store's folder" in info.value.message
    assert str(blocker / "sub") in info.value.message


def test_folder_given_as_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_locked_store_reports_busy_on_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with Store(path, busy_timeout_ms=50) as s:
            with pytest.raises(StoreError) as info:
                s.put_strategy(strategy())
            assert (
                info.value.message
                == f"{path}: store is busy (locked by another process); try again"
            )
        other.execute("ROLLBACK")
        with Store(path) as s:
            s.put_strategy(strategy())  # fine once the lock is gone
    finally:
        other.close()


def test_locked_store_reports_busy_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    other = sqlite3.connect(path, isolation_level=None)  # a rollback-journal database
    try:
        other.execute("BEGIN EXCLUSIVE")
        other.execute("CREATE TABLE IF NOT EXISTS t (x)")
        with pytest.raises(StoreError, match="busy"):
            Store(path, busy_timeout_ms=50)
    finally:
        other.close()


# --- transactions -----------------------------------------------------------------------------


def test_transaction_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put_strategy(strategy())
        store.put_instance(instance(), {"cursor": 1})
        with store.transaction():  # inner: joins the outer one
            store.put_events([event("ev-1", "2024-02-01T10:00:00Z")])
        raise RuntimeError("half-way")
    assert store.get_strategy("billing") is None
    assert store.get_instance("inst-1") is None
    assert store.get_event("ev-1") is None
    assert not store.conn.in_transaction


def test_transaction_commits_once_at_the_outermost_end(store: Store) -> None:
    with store.transaction():
        store.put_strategy(strategy())
        with store.transaction():
            store.put_instance(instance(), {})
        assert store.conn.in_transaction
    assert not store.conn.in_transaction
    assert store.get_instance("inst-1") is not None


def test_bad_record_in_a_batch_writes_nothing(store: Store) -> None:
    events = [event("ev-1", "2024-02-01T10:00:00Z"), event("ev-2", "not a date")]
    with pytest.raises(StoreError, match=r"ev-2.*not an RFC 3339 instant"):
        store.put_events(events)
    assert store.get_event("ev-1") is None
    broken = event("ev-3", "2024-02-01T10:00:00Z")
    del broken["instanceSid"]
    with pytest.raises(StoreError, match="instanceSid"):
        store.bulk_insert(
            [(instance(), {})], [event("ev-4", "2024-01-01T00:00:00Z"), broken], simulated=True
        )
    assert store.get_instance("inst-1") is None
    assert store.get_event("ev-4") is None


# --- strategies -------------------------------------------------------------------------------


def test_strategy_versions_round_trip(store: Store) -> None:
    v1, v2 = strategy(version=1), strategy(version=2)
    store.put_strategy(v2)
    store.put_strategy(v1)
    store.put_strategy(strategy("alpha", 1))
    assert store.strategy_versions("billing") == [v1, v2]
    assert store.get_strategy("billing") == v2
    assert store.get_strategy("billing", 1) == v1
    assert store.get_strategy("billing-v1") == v1  # by sid: that very version
    assert store.get_strategy("billing-v1", 1) == v1
    assert store.get_strategy("billing", 3) is None
    assert store.get_strategy("nope") is None
    listed = store.list_strategies()
    assert [(s["name"], s["version"], s["versions"]) for s in listed] == [
        ("alpha", 1, 1),
        ("billing", 2, 2),
    ]
    assert store.strategy_digest("billing", 1) == settings_digest(v1["settings"])


def test_strategy_digest_given_and_canonical(store: Store) -> None:
    store.put_strategy({**strategy(), "digest": "abc"})
    assert store.strategy_digest("billing") == "abc"
    assert "digest" not in store.get_strategy("billing")  # type: ignore[operator]
    assert settings_digest({"a": 1, "b": [1, 2]}) == settings_digest({"b": [1, 2], "a": 1})


def test_duplicate_strategy_version_is_an_error(store: Store) -> None:
    store.put_strategy(strategy())
    with pytest.raises(StoreError, match=r"version 1 .*already stored"):
        store.put_strategy(strategy(sid="other-sid"))
    with pytest.raises(StoreError, match="already stored"):
        store.put_strategy(strategy(version=2, sid="billing-v1"))


# --- instances --------------------------------------------------------------------------------


def test_instance_round_trip_and_replace(store: Store) -> None:
    store.put_strategy(strategy())
    rec = instance()
    state = {"cursor": 3, "seen": ["a", "b"], "nested": {"x": None}}
    store.put_instance(rec, state)
    assert store.get_instance("inst-1") == (rec, state)
    changed = {**rec, "status": "PAUSED", "cycle": 2}
    store.put_instance(changed, {"cursor": 4})
    assert store.get_instance("inst-1") == (changed, {"cursor": 4})
    assert store.get_instance("missing") is None


def test_instance_embedded_strategy_is_not_stored(store: Store) -> None:
    rec = {**instance(strategy_sid="remote-sid"), "strategy": strategy("remote", sid="remote-sid")}
    store.put_instance(rec, {})
    got, _ = store.get_instance("inst-1")  # type: ignore[misc]
    assert "strategy" not in got
    assert [i["sid"] for i in store.list_instances(strategy="remote")] == ["inst-1"]


def test_list_instances_filters(store: Store) -> None:
    store.put_strategy(strategy())
    store.put_strategy(strategy("alpha"))
    store.put_instance(instance("i-3", created="2024-01-03T00:00:00Z"), {})
    store.put_instance(instance("i-1", created="2024-01-01T23:00:00-03:00"), {})  # 02:00Z Jan 2
    store.put_instance(instance("i-2", created="2024-01-02T01:00:00Z", status="CANCELED"), {})
    store.put_instance(instance("i-4", "alpha-v1"), {})
    store.put_instance(instance("sim-1"), {}, simulated=True)

    def sids(**kw: Any) -> list[str]:
        return [i["sid"] for i in store.list_instances(**kw)]

    assert sids() == ["i-4", "i-2", "i-1", "i-3"]
    assert sids(strategy="billing") == ["i-2", "i-1", "i-3"]
    assert sids(strategy="billing-v1") == ["i-2", "i-1", "i-3"]
    assert sids(status="CANCELED") == ["i-2"]
    assert sids(simulated=True) == ["sim-1"]
    assert set(sids(simulated=None)) == {"i-1", "i-2", "i-3", "i-4", "sim-1"}
    listed = store.list_instances(simulated=None)
    assert {i["sid"]: i["simulated"] for i in listed}["sim-1"] is True
    assert {i["sid"]: i["simulated"] for i in listed}["i-1"] is False


def test_match_and_all_instance_sids(store: Store) -> None:
    for sid in ["abc-1", "abc-2", "abd-1", "ABC-3", "zzz"]:
        store.put_instance(instance(sid), {})
    assert store.match_instance_sids("abc") == ["abc-1", "abc-2"]
    assert store.match_instance_sids("ab", limit=2) == ["abc-1", "abc-2"]
    assert store.match_instance_sids("q") == []
    assert store.match_instance_sids("a%") == []  # no LIKE wildcards
    assert store.all_instance_sids() == ["ABC-3", "abc-1", "abc-2", "abd-1", "zzz"]
    assert store.all_instance_sids(limit=1) == ["ABC-3"]


# --- events -----------------------------------------------------------------------------------


def test_event_round_trip_keeps_every_field(store: Store) -> None:
    rec = event("ev-1", "2024-02-01T10:00:00-03:00")
    assert store.put_events([rec]) == 1
    assert store.get_event("ev-1") == rec
    assert store.get_event("ev-1")["taskStatus"]["taskResults"][0]["httpData"] == {"status": 200}  # type: ignore[index]
    assert store.get_event("nope") is None
    assert store.put_events([{**rec, "status": "PROCESSED"}]) == 1  # replace
    assert store.get_event("ev-1")["status"] == "PROCESSED"  # type: ignore[index]
    assert store.put_events(iter([])) == 0


def test_events_of_orders_by_instant_across_offsets(store: Store) -> None:
    store.put_events(
        [
            event("c", "2024-02-01T10:00:00-03:00"),  # 13:00Z
            event("a", "2024-02-01T12:30:00Z"),
            event("b", "2024-02-01T14:00:00+01:00", status="PROCESSED"),  # 13:00Z
            event("d", "2024-02-01T13:00:00.5Z", status="CANCELED"),
            event("x", "2024-01-01T00:00:00Z", instance_sid="other"),
        ]
    )
    assert [e["sid"] for e in store.events_of("inst-1")] == ["a", "b", "c", "d"]
    assert [e["sid"] for e in store.events_of("inst-1", ["PENDING"])] == ["a", "c"]
    assert [e["sid"] for e in store.events_of("inst-1", {"PROCESSED", "CANCELED"})] == ["b", "d"]
    assert store.events_of("inst-1", []) == []
    assert [e["sid"] for e in store.pending_events_of("inst-1")] == ["a", "c"]
    store.put_events([event("e", "2024-01-15T00:00:00Z", status="ONHOLD")])
    assert [e["sid"] for e in store.pending_events_of("inst-1")] == ["e", "a", "c"]


def test_due_events(store: Store) -> None:
    store.put_events(
        [
            event("late", "2024-02-01T09:00:00Z"),
            event("now", "2024-02-01T07:00:00-03:00"),  # 10:00Z
            event("future", "2024-02-01T10:00:01Z"),
            event("done", "2024-01-01T00:00:00Z", status="PROCESSED"),
            event("queued", "2024-01-01T00:00:00Z", status="QUEUED"),
            event("other", "2024-01-31T00:00:00Z", instance_sid="inst-2"),
        ]
    )
    store.put_events([event("sim", "2024-01-01T00:00:00Z")], simulated=True)
    now = "2024-02-01T10:00:00Z"
    assert [e["sid"] for e in store.due_events(now)] == ["other", "late", "now"]
    assert [e["sid"] for e in store.due_events("2024-02-01T07:00:00-03:00")] == [
        "other",
        "late",
        "now",
    ]
    assert [e["sid"] for e in store.due_events(now, limit=1)] == ["other"]
    assert [e["sid"] for e in store.due_events(now, instance_sid="inst-1")] == ["late", "now"]
    assert [e["sid"] for e in store.due_events(now, statuses=("PENDING", "QUEUED"))] == [
        "queued",
        "other",
        "late",
        "now",
    ]
    with pytest.raises(StoreError, match="not an RFC 3339 instant"):
        store.due_events("yesterday")


def test_match_event_sids(store: Store) -> None:
    store.put_events(event(sid, "2024-01-01T00:00:00Z") for sid in ["e-10", "e-11", "e-2", "f"])
    assert store.match_event_sids("e-1") == ["e-10", "e-11"]
    assert store.match_event_sids("e", limit=1) == ["e-10"]


def test_bulk_insert(store: Store) -> None:
    store.put_strategy(strategy())
    instances = [(instance(f"i-{n}"), {"n": n}) for n in range(50)]
    events = [
        event(f"e-{n}-{k}", f"2024-0{k + 1}-01T10:00:00-03:00", instance_sid=f"i-{n}")
        for n in range(50)
        for k in range(6)
    ]
    with store.transaction():
        store.bulk_insert(instances, iter(events), simulated=True)
    assert store.get_instance("i-7") == (instances[7][0], {"n": 7})
    assert len(store.list_instances(simulated=True, strategy="billing")) == 50
    assert store.list_instances() == []
    assert [e["sid"] for e in store.events_of("i-3")] == [f"e-3-{k}" for k in range(6)]
    assert store.due_events("2030-01-01T00:00:00Z") == []  # simulated events are never due
    count = store.conn.execute("SELECT count(*) FROM events WHERE simulated = 1").fetchone()[0]
    assert count == 300


def test_utc_key() -> None:
    assert utc_key("2024-02-01T10:00:00-03:00") == "2024-02-01T13:00:00.000000Z"
    assert utc_key("2024-02-01t13:00:00.25z") == "2024-02-01T13:00:00.250000Z"
    assert utc_key("2024-02-01T13:00:00") == "2024-02-01T13:00:00.000000Z"


# --- concurrency ------------------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys
    from strategy_cli.adapters.store import Store
    path, tag = sys.argv[1], sys.argv[2]
    with Store(path) as s:
        for i in range(200):
            s.put_events([{
                "sid": f"{tag}-{i}", "instanceSid": tag, "strategySid": "s", "status": "PENDING",
                "main": True, "task": "t", "date": f"2024-01-01T00:00:{i % 60:02d}Z",
            }])
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "store.db"  # not created yet: both race to create it too
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), tag],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p1", "p2")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Store(path) as s:
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(s.events_of("p1")) == 200
        assert len(s.events_of("p2")) == 200
        assert s.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 400


# --- default path -----------------------------------------------------------------------------


def test_default_store_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STRATEGY_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "strategy" / "store.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "strategy" / "store.db"
    monkeypatch.setenv("XDG_DATA_HOME", "")
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "strategy" / "store.db"
    monkeypatch.setenv("STRATEGY_DB", str(tmp_path / "mine.db"))
    assert default_store_path() == tmp_path / "mine.db"


def test_records_are_stored_as_standard_json(store: Store) -> None:
    """orjson writes them; what it refuses goes to the standard encoder; JSON has no NaN."""
    import datetime

    data = {
        "when": datetime.datetime(2024, 1, 1, 9, 30, tzinfo=datetime.UTC),
        "text": "Müller ✓",
        "nan": float("nan"),
    }
    store.put_events(
        [
            {**event("e1", "2024-01-01T00:00:00Z"), "data": data},
            {**event("e2", "2024-01-01T00:00:00Z"), "data": {1: "int key", "big": 2**70}},
        ]
    )
    first, second = store.get_event("e1"), store.get_event("e2")
    assert first is not None and second is not None
    assert first["data"] == {"when": "2024-01-01T09:30:00+00:00", "text": "Müller ✓", "nan": None}
    assert second["data"] == {"1": "int key", "big": 2**70}  # the standard encoder's work
    (text,) = store.conn.execute("SELECT record FROM events WHERE sid = 'e1'").fetchone()
    assert '"text":"Müller ✓"' in text
