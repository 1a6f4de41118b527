"""The store contract: what every store backend promises, run against each backend.

Every test takes the `store` fixture (and, where it needs a second connection to the same
store or a read-only one, `backend`). Adding a backend (PostgreSQL is next) is a one-line
change here: its entry in `BACKENDS`, naming a function like `_sqlite` that says how to open it.
No test knows which backend it runs against.

Leases are not store methods yet: `strategy run` claims, renews and releases them through the
store's transactions and records (`adapters/runner.py`). `Leases` below does exactly that, in
one place, so when the store grows `claim`/`renew`/`release` only `Leases` changes.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy_cli.adapters import store as store_mod
from strategy_cli.adapters.operations import NotFound, event_sid, instance_sid
from strategy_cli.adapters.store import (
    Store,
    StoreError,
    event_rows,
    instance_row,
    settings_digest,
)
from strategy_cli.errors import StrategyError

Record = dict[str, Any]


# --- backends -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """How to reach one store: `open()` gives a new connection to the same data each time;
    another process reaches it with `Store(location)`."""

    open: Callable[..., Store]
    location: str


def _sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Backend:
    file = tmp_path / "contract.db"

    def open_(*, readonly: bool = False) -> Store:
        if not readonly:
            return Store(file)
        # Root may write any file, so permissions cannot make it read-only here: the store is
        # told its file is not writable, as it would find for an ordinary user.
        with monkeypatch.context() as patch:
            patch.setattr(store_mod, "_not_writable", lambda _file: True)
            return Store(file)

    return Backend(open_, str(file))


# One entry per backend; the whole suite runs against each.
BACKENDS: dict[str, Callable[[Path, pytest.MonkeyPatch], Backend]] = {"sqlite": _sqlite}


@pytest.fixture(params=list(BACKENDS))
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    return BACKENDS[request.param](tmp_path, monkeypatch)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.open() as opened:
        yield opened


# --- records ------------------------------------------------------------------------------------


def strategy(name: str = "billing", version: int = 1) -> Record:
    return {
        "sid": f"{name}-v{version}",
        "name": name,
        "version": version,
        "description": "ñ and ü",
        "settings": {"tasks": [{"name": "charge"}], "version": version, "ratio": 0.25},
        "createdAt": "2024-01-01T00:00:00+05:30",
    }


def instance(sid: str = "inst-0001", created: str = "2024-01-01T10:00:00-04:00") -> Record:
    return {
        "sid": sid,
        "strategyId": "billing-v1",
        "status": "ACTIVE",
        "cycle": 1,
        "startDate": created,
        "executionDate": "2024-02-01T10:00:00+05:30",
        "createdAt": created,
        "updatedAt": "2024-01-01T14:00:00Z",
        "attributes": {"customer": "ACME", "amount": 12.5, "nested": [1, {"x": None}]},
        "nextEvent": {"sid": "ev-1", "date": "2024-02-01T10:00:00+00:00"},
    }


def event(
    sid: str, date: str, *, instance_sid: str = "inst-0001", status: str = "PENDING"
) -> Record:
    return {
        "sid": sid,
        "instanceSid": instance_sid,
        "strategySid": "billing-v1",
        "status": status,
        "main": True,
        "task": "charge",
        "date": date,
        "scheduledAt": date,
        "attempt": 1,
        "lockOwner": None,
        "data": {"k": [1, 2, {"x": None}], "text": "ñ"},
        "_seq": 1,
        "_history": [],
    }


# --- round trips --------------------------------------------------------------------------------


def test_strategy_versions_round_trip_whole(store: Store) -> None:
    for version in (1, 2, 3):
        store.put_strategy(strategy(version=version))
    store.put_strategy(strategy("other"))
    assert store.strategy_versions("billing") == [strategy(version=v) for v in (1, 2, 3)]
    assert store.get_strategy("billing") == strategy(version=3)
    assert store.get_strategy("billing", 1) == strategy(version=1)
    assert store.get_strategy("billing-v2") == strategy(version=2)
    assert store.get_strategy("missing") is None
    listed = {r["name"]: r for r in store.list_strategies()}
    assert listed["billing"] == {**strategy(version=3), "versions": 3}
    assert listed["other"] == {**strategy("other"), "versions": 1}


def test_a_stored_strategy_version_is_never_overwritten(store: Store) -> None:
    store.put_strategy(strategy())
    with pytest.raises(StoreError, match="already stored"):
        store.put_strategy({**strategy(), "description": "changed"})
    assert store.get_strategy("billing", 1) == strategy()


def test_instance_round_trip_keeps_values_and_offsets(store: Store) -> None:
    record, state = instance(), {"_lease": {"owner": "a", "until": "2024-01-01T00:05:00+05:30"}}
    store.put_instance(record, state)
    assert store.get_instance("inst-0001") == (record, state)
    replaced = {**record, "status": "PAUSED", "updatedAt": "2024-01-02T00:00:00-04:00"}
    store.put_instance(replaced, {})
    assert store.get_instance("inst-0001") == (replaced, {})
    assert store.get_instance("nope") is None


def test_event_round_trip_keeps_values_and_offsets(store: Store) -> None:
    written = [
        event("ev-a", "2024-02-01T10:00:00+05:30"),
        event("ev-b", "2024-02-01T10:00:00-04:00"),
        event("ev-c", "2024-02-01T10:00:00Z"),
        event("ev-d", "2024-02-01T10:00:00+00:00"),
    ]
    assert store.put_events(written) == 4
    for record in written:
        assert store.get_event(record["sid"]) == record
    assert store.get_event("nope") is None


def _offset_text(moment: datetime, offset_minutes: int, zulu: bool) -> str:
    if zulu:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    tz = timezone(timedelta(minutes=offset_minutes))
    return moment.replace(tzinfo=tz).isoformat()


INSTANTS = st.builds(
    _offset_text,
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2199, 12, 30)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    st.booleans(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dates=st.lists(INSTANTS, min_size=1, max_size=6))
def test_any_instant_round_trips_as_written_and_sorts_by_the_moment(
    store: Store, dates: list[str]
) -> None:
    owner = f"inst-{len(store.all_instance_sids()):08d}"
    store.put_instance(instance(owner, dates[0]), {})
    written = [event(f"{owner}-{i}", d, instance_sid=owner) for i, d in enumerate(dates)]
    store.put_events(written)
    assert store.get_instance(owner) == (instance(owner, dates[0]), {})
    stored = store.events_of(owner)
    assert {e["sid"]: e for e in stored} == {e["sid"]: e for e in written}  # texts as written
    order = sorted(written, key=lambda e: (_moment(e["date"]), e["sid"]))
    assert [e["sid"] for e in stored] == [e["sid"] for e in order]
    latest = _moment(order[-1]["date"])
    due = store.due_events(latest.isoformat(), instance_sid=owner, limit=len(dates) - 1)
    assert [e["sid"] for e in due] == [e["sid"] for e in order[:-1]]
    assert store.due_events(_text(latest - timedelta(milliseconds=1)), instance_sid=owner) == [
        e for e in order if _moment(e["date"]) < latest
    ]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_strategy_digest_and_name(store: Store) -> None:
    store.put_strategy(strategy())
    store.put_strategy({**strategy(version=2), "digest": "given"})
    assert store.strategy_digest("billing", 1) == settings_digest(strategy()["settings"])
    assert store.strategy_digest("billing") == "given"
    assert store.strategy_digest("missing") is None
    assert store.get_strategy("billing") == strategy(version=2)  # the digest is not in it
    assert store.strategy_name("billing-v2") == "billing"
    assert store.strategy_name("missing") is None


def test_a_failed_transaction_writes_nothing_and_inner_ones_join_it(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put_instance(instance(), {})
        with store.transaction():
            store.put_events([event("ev-1", "2024-01-01T00:00:00Z")])
        raise RuntimeError("after the inner block ended")
    assert store.get_instance("inst-0001") is None
    assert store.get_event("ev-1") is None


def test_an_event_that_cannot_be_stored_writes_nothing(store: Store) -> None:
    good = event("ev-1", "2024-01-01T00:00:00Z")
    with pytest.raises(StoreError, match="not an RFC 3339 instant"):
        store.put_events([good, event("ev-2", "next tuesday")])
    assert store.get_event("ev-1") is None


def test_text_that_is_not_utf8_is_a_store_error(store: Store) -> None:
    bad = "inst-\udcff"  # a lone surrogate, as an argument with invalid bytes gives
    with pytest.raises(StoreError, match="not valid UTF-8"):
        store.get_instance(bad)
    with pytest.raises(StoreError, match="not valid UTF-8"):
        store.match_event_sids(bad)


def test_a_closed_store_is_a_store_error(backend: Backend) -> None:
    opened = backend.open()
    opened.close()
    with pytest.raises(StoreError, match="closed"):
        opened.get_event("ev-1")


# --- due events ---------------------------------------------------------------------------------


def test_due_is_by_instant_then_sid_up_to_the_limit(store: Store) -> None:
    store.put_events(
        [
            event("ev-3", "2024-01-01T12:00:00+02:00"),  # 10:00Z
            event("ev-1", "2024-01-01T05:00:00-04:00"),  # 09:00Z
            event("ev-2", "2024-01-01T09:00:00Z"),  # 09:00Z, same moment as ev-1
            event("ev-4", "2024-01-01T10:00:01+00:00"),  # after now
            event("ev-0", "2024-01-01T08:00:00Z", status="PROCESSED"),
        ]
    )
    now = "2024-01-01T15:30:00+05:30"  # 10:00Z: at or before it is due
    assert [e["sid"] for e in store.due_events(now)] == ["ev-1", "ev-2", "ev-3"]
    assert [e["sid"] for e in store.due_events(now, limit=2)] == ["ev-1", "ev-2"]
    assert [e["sid"] for e in store.due_events(now, statuses=("PROCESSED",))] == ["ev-0"]
    assert store.due_events(now, statuses=()) == []
    assert [e["sid"] for e in store.due_events(now, instance_sid="other")] == []


def test_simulated_events_are_never_due(store: Store) -> None:
    store.put_events([event("ev-sim", "2024-01-01T00:00:00Z")], simulated=True)
    store.put_events([event("ev-real", "2024-01-01T00:00:00Z")])
    assert [e["sid"] for e in store.due_events("2025-01-01T00:00:00Z")] == ["ev-real"]
    assert store.get_event("ev-sim") == event("ev-sim", "2024-01-01T00:00:00Z")


def test_due_at_a_moment_that_is_not_an_instant_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="not an RFC 3339 instant"):
        store.due_events("yesterday")


def test_events_of_an_instance_by_instant_then_sid(store: Store) -> None:
    store.put_events(
        [
            event("ev-b", "2024-01-01T09:00:00Z", status="PROCESSED"),
            event("ev-a", "2024-01-01T05:00:00-04:00", status="FAILED"),
            event("ev-c", "2024-01-01T09:30:00+05:30"),  # 04:00Z: the first
            event("ev-d", "2024-01-01T10:00:00Z", status="EXECUTING"),
            event("ev-x", "2024-01-01T00:00:00Z", instance_sid="other"),
        ]
    )
    assert [e["sid"] for e in store.events_of("inst-0001")] == ["ev-c", "ev-a", "ev-b", "ev-d"]
    assert [e["sid"] for e in store.events_of("inst-0001", ("FAILED", "EXECUTING"))] == [
        "ev-a",
        "ev-d",
    ]
    assert store.events_of("inst-0001", ()) == []
    assert [e["sid"] for e in store.pending_events_of("inst-0001")] == ["ev-c", "ev-d"]


def test_instances_are_listed_by_creation_then_sid(store: Store) -> None:
    store.put_strategy(strategy())
    store.put_instance(instance("inst-late", "2024-01-01T10:00:00Z"), {})
    store.put_instance(instance("inst-b", "2024-01-01T10:00:00+05:30"), {})  # 04:30Z
    store.put_instance(instance("inst-a", "2024-01-01T00:30:00-04:00"), {})  # 04:30Z too
    store.put_instance(instance("inst-sim", "2024-01-01T00:00:00Z"), {}, simulated=True)
    listed = store.list_instances()
    assert [r["sid"] for r in listed] == ["inst-a", "inst-b", "inst-late"]
    assert listed[0] == {**instance("inst-a", "2024-01-01T00:30:00-04:00"), "simulated": False}
    both = store.list_instances(simulated=None, strategy="billing")
    assert [r["sid"] for r in both] == ["inst-sim", "inst-a", "inst-b", "inst-late"]
    assert [r["sid"] for r in store.list_instances(simulated=True)] == ["inst-sim"]
    assert store.list_instances(status="PAUSED") == []
    assert store.list_instances(strategy="other") == []


def test_due_tasks_are_each_strategy_task_pair_once(store: Store) -> None:
    store.put_events(
        [
            event("ev-1", "2024-01-01T00:00:00Z"),
            event("ev-2", "2024-01-01T01:00:00+01:00"),
            {**event("ev-3", "2024-01-01T00:00:00Z"), "task": "remind"},
            {**event("ev-4", "2024-01-01T00:00:00Z", status="PROCESSED"), "task": "done"},
            {**event("ev-5", "2099-01-01T00:00:00Z"), "task": "later"},
        ]
    )
    store.put_events([{**event("ev-6", "2024-01-01T00:00:00Z"), "task": "sim"}], simulated=True)
    due = store.due_tasks("2024-06-01T00:00:00Z")
    assert sorted(due) == [("billing-v1", "charge"), ("billing-v1", "remind")]
    assert store.due_tasks("2024-06-01T00:00:00Z", instance_sid="other") == []


# --- prefix lookup ------------------------------------------------------------------------------


def test_prefix_lookup_of_sids(store: Store) -> None:
    for sid in ("abcdefgh-1111", "abcdefgh-2222", "abcdzzzz-3333"):
        store.put_instance(instance(sid), {})
    store.put_events([event("evtevtev-1", "2024-01-01T00:00:00Z")])
    assert store.match_instance_sids("abcd") == ["abcdefgh-1111", "abcdefgh-2222", "abcdzzzz-3333"]
    assert store.match_instance_sids("abcd", 2) == ["abcdefgh-1111", "abcdefgh-2222"]
    assert store.match_instance_sids("ABCD") == []  # exact, case-sensitive
    assert store.match_event_sids("evtevt") == ["evtevtev-1"]
    assert instance_sid(store, "abcdefgh-1") == "abcdefgh-1111"  # unique, 8+ characters
    assert instance_sid(store, "abcdzzzz-3333") == "abcdzzzz-3333"  # exact
    assert event_sid(store, "evtevtev") == "evtevtev-1"
    with pytest.raises(StrategyError, match="ambiguous"):
        instance_sid(store, "abcdefgh")
    with pytest.raises(NotFound, match="too short"):
        instance_sid(store, "abcdzzz")  # unique, yet under 8 characters
    with pytest.raises(NotFound, match="no instance"):
        instance_sid(store, "abcdefgh-9")


# --- leases -------------------------------------------------------------------------------------


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Leases:
    """One runner's leases, taken the way `adapters/runner.py` takes them: in one write
    transaction, due PENDING events and EXECUTING ones whose lease has run out become
    EXECUTING with this owner and a lease until `now + length`."""

    store: Store
    owner: str
    length: timedelta = timedelta(minutes=5)

    def claim(self, now: datetime, limit: int = 100) -> list[str]:
        claimed = []
        with self.store.transaction():
            rows = self.store.due_events(_text(now), statuses=("EXECUTING",), limit=limit)
            rows = [r for r in rows if not _leased(r, now)]
            rows += self.store.due_events(_text(now), limit=limit)
            for row in rows[:limit]:
                row.update(status="EXECUTING", lockOwner=self.owner)
                row["_leaseUntil"] = _text(now + self.length)
                self.store.put_events([row])
                claimed.append(row["sid"])
        return claimed

    def renew(self, sid: str, now: datetime) -> bool:
        with self.store.transaction():
            stored = self.store.get_event(sid)
            if not self._mine(stored):
                return False
            stored["_leaseUntil"] = _text(now + self.length)
            self.store.put_events([stored])
            return True

    def release(self, sid: str, before: Record) -> bool:
        with self.store.transaction():
            if not self._mine(self.store.get_event(sid)):
                return False
            self.store.put_events([before])
            return True

    def _mine(self, stored: Record | None) -> bool:
        return (
            stored is not None
            and stored["status"] == "EXECUTING"
            and stored.get("lockOwner") == self.owner
        )


def _leased(row: Record, now: datetime) -> bool:
    until = row.get("_leaseUntil")
    return isinstance(until, str) and datetime.fromisoformat(until) > now


T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def test_lease_claim_renew_expiry_takeover_and_release(store: Store) -> None:
    pending = event("ev-1", "2024-01-01T11:00:00+01:00")
    store.put_events([pending])
    a, b = Leases(store, "runner-a"), Leases(store, "runner-b")
    assert a.claim(T0) == ["ev-1"]
    assert b.claim(T0 + timedelta(minutes=4)) == []  # leased: not due to anyone else
    assert a.renew("ev-1", T0 + timedelta(minutes=4))  # until 12:09
    assert b.claim(T0 + timedelta(minutes=8)) == []  # the renewal holds
    assert b.claim(T0 + timedelta(minutes=9, seconds=1)) == ["ev-1"]  # expired: taken over
    assert store.get_event("ev-1")["lockOwner"] == "runner-b"  # type: ignore[index]
    assert not a.renew("ev-1", T0 + timedelta(minutes=10))  # a lost it
    assert not a.release("ev-1", pending)
    assert b.release("ev-1", pending)
    assert store.get_event("ev-1") == pending  # exactly as before the claim: due again
    assert [e["sid"] for e in store.due_events(_text(T0))] == ["ev-1"]


def test_two_claimers_never_get_the_same_event(backend: Backend) -> None:
    count = 60
    with backend.open() as setup:
        setup.put_events([event(f"ev-{i:03d}", "2024-01-01T00:00:00Z") for i in range(count)])
    got: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claimer(owner: str) -> None:
        with backend.open() as own:  # a connection of its own, as another process would have
            leases = Leases(own, owner)
            start.wait()
            while claimed := leases.claim(T0, limit=3):
                got[owner] += claimed

    threads = [threading.Thread(target=claimer, args=(o,)) for o in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == [f"ev-{i:03d}" for i in range(count)]
    with backend.open() as check:
        executing = check.due_events(_text(T0), statuses=("EXECUTING",), limit=count)
    owners = {e["sid"]: e["lockOwner"] for e in executing}
    assert owners == {sid: owner for owner, sids in got.items() for sid in sids}


def _claim_in_a_process(location: str, owner: str) -> list[str]:
    got: list[str] = []
    with Store(location) as own:
        leases = Leases(own, owner)
        while claimed := leases.claim(T0, limit=2):
            got += claimed
    return got


def test_two_claiming_processes_never_get_the_same_event(backend: Backend) -> None:
    count = 40
    with backend.open() as setup:
        setup.put_events([event(f"ev-{i:03d}", "2024-01-01T00:00:00Z") for i in range(count)])
    spawn = multiprocessing.get_context("spawn")  # no fork of a threaded test runner
    with spawn.Pool(2) as pool:
        a, b = pool.starmap(_claim_in_a_process, [(backend.location, "a"), (backend.location, "b")])
    assert not set(a) & set(b)
    assert sorted(a + b) == [f"ev-{i:03d}" for i in range(count)]


# --- bulk writes --------------------------------------------------------------------------------


def test_bulk_write_is_all_or_nothing(store: Store) -> None:
    store.put_events([event("ev-kept", "2024-01-01T00:00:00Z")])
    rows = list(event_rows([event("ev-new", "2024-01-01T00:00:00Z")], 1, store.path))
    with pytest.raises(RuntimeError), store.bulk_transaction():
        store.insert_rows([instance_row(instance("inst-new"), {}, 1, None, store.path)], rows)
        raise RuntimeError("a bad line half-way through a portfolio")
    assert store.get_instance("inst-new") is None
    assert store.get_event("ev-new") is None
    assert store.get_event("ev-kept") == event("ev-kept", "2024-01-01T00:00:00Z")
    store.put_events([event("ev-after", "2024-01-01T00:00:00Z")])  # still writable
    assert store.get_event("ev-after") is not None


def test_a_bad_record_in_a_bulk_insert_writes_nothing(store: Store) -> None:
    broken = {k: v for k, v in event("ev-2", "x").items() if k != "date"}
    with pytest.raises(StoreError, match="without 'date'"):
        store.bulk_insert(
            [(instance("inst-a"), {})],
            [event("ev-1", "2024-01-01T00:00:00Z", instance_sid="inst-a"), broken],
            simulated=True,
        )
    assert store.get_instance("inst-a") is None
    assert store.get_event("ev-1") is None


# --- read-only ----------------------------------------------------------------------------------


def test_a_read_only_store_reads_and_refuses_writes(backend: Backend) -> None:
    with backend.open() as writer:
        writer.put_instance(instance(), {})
    with backend.open(readonly=True) as reader:
        assert reader.get_instance("inst-0001") == (instance(), {})
        with pytest.raises(StoreError, match="read-only"):
            reader.put_events([event("ev-1", "2024-01-01T00:00:00Z")])
        assert reader.get_event("ev-1") is None
