"""Crash safety and concurrent runners: real `strategy run` processes, one store, one server.

A runner killed with SIGKILL in the middle of a batch leaves its events EXECUTING under a lease;
once the lease expires (STRATEGY_LEASE_SECONDS shortens it here) another runner re-runs those
attempts with the same attempt number, hence the same idempotency keys. Two runners at once never
execute the same (event, step, attempt).
"""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest
from servers import RecordingServer, Reply, RunKit, Seen, strategy_doc, wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

TWO_STEPS = [
    {"key": "first", "action": "hook", "nextStep": "second"},
    {"key": "second", "action": "hook", "final": True},
]
ACTIONS = [
    {
        "key": "hook",
        "service": "api",
        "method": "hook",
        "data": {"id": "{{ attributes.id }}", "event": "{{ event.sid }}"},
    }
]


def _by_key(log: list[Seen]) -> dict[str, list[Seen]]:
    seen: dict[str, list[Seen]] = defaultdict(list)
    for s in log:
        assert s.key, f"a request without Idempotency-Key: {s}"
        seen[s.key].append(s)
    return seen


def test_killed_runner_is_taken_over_after_the_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=1.0)}) as server:
        doc = strategy_doc("crash", server.url, steps=TWO_STEPS, actions=ACTIONS)
        sids = kit.create(doc, *({"id": f"c{i}"} for i in range(10)))

        first = kit.spawn(
            "run", "--db", str(kit.db), "--concurrency", "4",
            env={"STRATEGY_LEASE_SECONDS": "2"},
        )  # fmt: skip
        try:
            # kill once some attempts are done and others are in flight (the server holds each
            # request for a second, so the latest ones have not been answered yet)
            assert wait_until(lambda: len(server.requests()) >= 7, timeout=20)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        killed_at = time.monotonic()
        assert first.returncode == -signal.SIGKILL

        statuses = [e["status"] for e in kit.events()]
        assert "EXECUTING" in statuses, statuses  # the kill landed mid-flight
        assert all(e.get("_leaseUntil") for e in kit.events() if e["status"] == "EXECUTING")

        server.route("/hook", Reply(200, {"ok": True}))  # fast from now on
        monkeypatch.setenv("STRATEGY_LEASE_SECONDS", "2")
        time.sleep(max(0.0, 2.2 - (time.monotonic() - killed_at)))  # the leases expire
        second = kit.run("--concurrency", "4")
        assert second.code == 0, second.text

        events = kit.events()
        assert len(events) == len(sids)
        assert {e["status"] for e in events} == {"PROCESSED"}
        assert all("_leaseUntil" not in e for e in events)
        for sid in sids:
            assert "_lease" not in kit.rows("SELECT state FROM instances WHERE sid = ?", sid)[0][0]

        seen = _by_key(server.requests())
        expected = {f"{e['sid']}:{step}:1" for e in events for step in ("first", "second")}
        assert set(seen) == expected  # every step ran, each with attempt 1
        assert max(len(v) for v in seen.values()) <= 2
        assert any(len(v) == 2 for v in seen.values())  # in-flight calls were sent again
        for key, requests in seen.items():
            assert len({r.body for r in requests}) == 1, f"two bodies for {key}"


def test_two_runners_never_run_the_same_attempt(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=0.2)}) as server:
        doc = strategy_doc("pair", server.url, steps=TWO_STEPS, actions=ACTIONS)
        sids = kit.create(doc, *({"id": f"p{i}"} for i in range(24)))

        runners = [kit.spawn("run", "--db", str(kit.db), "--concurrency", "4") for _ in range(2)]
        outputs = [r.communicate(timeout=60) for r in runners]

        for proc, (out, err) in zip(runners, outputs, strict=True):
            assert proc.returncode == 0, out + err
            assert "error" not in err.lower(), err
        events = kit.events()
        assert len(events) == len(sids)
        assert {e["status"] for e in events} == {"PROCESSED"}
        seen = _by_key(server.requests())
        assert len(seen) == 2 * len(sids)
        assert all(len(v) == 1 for v in seen.values()), [k for k, v in seen.items() if len(v) > 1]
        owners = {e["lockOwner"] for e in events}
        assert len(owners) == 2, owners  # both runners took part


def test_leases_are_renewed_while_an_attempt_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=2.5)}) as server:
        (sid,) = kit.create(strategy_doc("renew", server.url), {"id": "r"})
        slow = kit.spawn("run", "--db", str(kit.db), env={"STRATEGY_LEASE_SECONDS": "1"})
        try:
            assert wait_until(lambda: len(server.requests()) == 1, timeout=20)
            time.sleep(1.2)  # past the first lease: only a renewal keeps it
            monkeypatch.setenv("STRATEGY_LEASE_SECONDS", "1")
            other = kit.run()
            assert other.code == 0 and "0 attempt" in other.out, other.text
        finally:
            out, err = slow.communicate(timeout=30)
        assert slow.returncode == 0, out + err
        assert len(server.requests()) == 1
        assert kit.event(sid)["status"] == "PROCESSED"


@pytest.mark.parametrize("operation", ["cancel", "pause"])
def test_an_operator_change_during_an_attempt_is_kept(tmp_path: Path, operation: str) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=1.5)}) as server:
        retry = {"times": 2, "retryAfter": {"unit": "minutes", "amount": 10}}
        doc = strategy_doc("operator", server.url, task={"retryConfig": retry})
        (sid,) = kit.create(doc, {"id": "o"})
        runner = kit.spawn("run", "--db", str(kit.db))
        try:
            assert wait_until(lambda: len(server.requests()) == 1, timeout=20)
            changed = kit.cli("instance", operation, sid, "--db", str(kit.db))
            assert changed.code == 0, changed.text
        finally:
            out, err = runner.communicate(timeout=30)
        assert runner.returncode == 0, out + err

    instance = kit.instance(sid)
    event = kit.event(sid)
    if operation == "cancel":
        assert instance["status"] == "CANCELED"
        assert event["status"] == "CANCELED"  # the runner did not write over the cancel
        assert "changed by someone else" in err
    else:
        assert instance["status"] == "PAUSED"  # the runner's outcome kept the pause
        assert event["status"] == "PROCESSED"


def test_watch_picks_up_new_events_and_stops_on_sigterm(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer() as server:
        doc = strategy_doc("watch", server.url)
        kit.create(doc, {"id": "w1"})
        watcher = kit.spawn("run", "--db", str(kit.db), "--watch", "--interval", "0.1")
        try:
            assert wait_until(lambda: len(server.requests()) == 1, timeout=20)
            kit.create(doc, {"id": "w2"})  # due at once: the next poll takes it
            assert wait_until(lambda: len(server.requests()) == 2, timeout=20)
        finally:
            watcher.send_signal(signal.SIGTERM)
            out, err = watcher.communicate(timeout=30)
        assert watcher.returncode == 130, out + err  # interrupted, after storing its work
        assert "interrupted after 2 attempt(s): 2 processed" in out
        assert {e["status"] for e in kit.events()} == {"PROCESSED"}
