"""Ctrl-C and SIGTERM during `strategy run`: real runner processes, a real slow server.

The first signal stops claiming and lets the attempts in flight finish and be stored; a second
releases them at once (each event exactly as it was before the claim: due again, same attempt
number). Either way the runner exits 130, and no event is left claimed, lost or half-written.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from servers import RecordingServer, Reply, RunKit, strategy_doc, wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")


def claims_left(kit: RunKit) -> list[str]:
    """Every trace of a claim still in the store: EXECUTING events, leases, lock owners."""
    left = [f"event {e['sid']} {e['status']}" for e in kit.events() if e["status"] == "EXECUTING"]
    left += [f"event {e['sid']} leased" for e in kit.events() if "_leaseUntil" in e]
    for (state,) in kit.rows("SELECT state FROM instances"):
        if '"_lease"' in (state or ""):
            left.append(f"instance lease in {state[:80]}")
    return left


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("watch", [True, False], ids=["watch", "once"])
def test_a_signal_finishes_the_attempts_in_flight_then_exits_130(
    tmp_path: Path, signum: signal.Signals, watch: bool
) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=1.5)}) as server:
        sids = kit.create(strategy_doc("stop", server.url), *({"id": f"s{i}"} for i in range(6)))
        flags = ["--watch", "--interval", "0.1"] if watch else []
        runner = kit.spawn("run", "--db", str(kit.db), "--concurrency", "2", *flags)
        try:
            assert wait_until(lambda: len(server.requests()) == 2, timeout=20)  # 2 in flight
            runner.send_signal(signum)
            out, err = runner.communicate(timeout=30)
        finally:
            runner.kill()
        assert runner.returncode == 130, out + err
        time.sleep(0.3)
        assert len(server.requests()) == 2  # nothing claimed after the signal

    assert "stopping: finishing the attempts in flight" in err
    assert "interrupted after 2 attempt(s): 2 processed" in out
    assert "Traceback" not in err
    events = kit.events()
    assert len(events) == len(sids)  # nothing lost
    assert sorted(e["status"] for e in events) == ["PENDING"] * 4 + ["PROCESSED"] * 2
    assert all(not e.get("attempt") for e in events if e["status"] == "PENDING")
    assert claims_left(kit) == []


def test_a_second_signal_releases_the_attempts_in_flight(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"/hook": Reply(200, {"ok": True}, delay=60)}) as server:
        sids = kit.create(strategy_doc("release", server.url), *({"id": f"r{i}"} for i in range(4)))
        before = sorted(kit.dump().splitlines())  # (a replaced row gets a new rowid)
        runner = kit.spawn("run", "--db", str(kit.db), "--concurrency", "2", "--watch")
        try:
            assert wait_until(lambda: len(server.requests()) == 2, timeout=20)
            first_keys = sorted(s.key or "" for s in server.requests())
            runner.send_signal(signal.SIGINT)
            time.sleep(0.5)  # the runner is waiting for its slow calls
            assert runner.poll() is None
            started = time.monotonic()
            runner.send_signal(signal.SIGTERM)
            out, err = runner.communicate(timeout=20)
            stopped_in = time.monotonic() - started
        finally:
            runner.kill()
        assert runner.returncode == 130, out + err
        assert stopped_in < 10  # not the 60 s the server would take
        assert "stopping now: releasing the attempts in flight" in err
        assert "released 2 attempt(s) in flight" in err
        assert "interrupted after 2 attempt(s): 2 released" in out
        assert "Traceback" not in err

        # Exactly as before the run: every event due again, same attempt numbers, no lease.
        assert sorted(kit.dump().splitlines()) == before
        assert claims_left(kit) == []

        server.route("/hook", Reply(200, {"ok": True}))
        again = kit.run()
        assert again.code == 0, again.text
    assert {e["status"] for e in kit.events()} == {"PROCESSED"}
    assert len(kit.events()) == len(sids)
    resent = sorted(s.key or "" for s in server.requests()[2:])
    assert set(first_keys) <= set(resent)  # a released call is sent again with its old key


def test_a_signal_while_idle_in_watch_mode_exits_130_at_once(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer() as server:
        kit.create(strategy_doc("idle", server.url), {"id": "i"})
        runner = kit.spawn("run", "--db", str(kit.db), "--watch", "--interval", "30")
        try:
            assert wait_until(lambda: len(server.requests()) == 1, timeout=20)
            time.sleep(0.5)  # now napping for 30 s
            started = time.monotonic()
            runner.send_signal(signal.SIGTERM)
            out, err = runner.communicate(timeout=20)
        finally:
            runner.kill()
    assert runner.returncode == 130, out + err
    assert time.monotonic() - started < 10
    assert "interrupted after 1 attempt(s): 1 processed" in out
    assert claims_left(kit) == []
