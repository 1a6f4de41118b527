"""Stopping `simulate --instances-file`: a signal before the commit stores nothing and exits 130;
one after it keeps the work, says so and exits 0. Worker processes never outlive the command,
whether the signal reaches the whole process group (a terminal's Ctrl-C), the command alone
(`kill PID`, a service manager) or the command is killed outright."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from servers import RunKit
from test_sim_portfolio import LOAN, loan_line, start_large_portfolio

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def session_members(session: int) -> list[int]:
    """The live processes of a session (field 6 of /proc/PID/stat), zombies left out."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            members.append(int(entry.name))
    return members


def wait_for_workers(proc_pid: int, db: Path) -> int:
    """Wait until the run is under way; how many processes it then has (1 without workers)."""
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # the workers are spawned and simulating
    return len(session_members(proc_pid))


def no_survivors(session: int, within: float = 10.0) -> list[int]:
    deadline = time.monotonic() + within
    while (left := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        (instances,) = conn.execute("SELECT count(*) FROM instances").fetchone()
        (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
        return instances, events
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, False)],
    ids=["SIGTERM-command", "SIGTERM-group", "SIGINT-command"],
)
def test_a_signal_before_the_commit_stores_nothing_and_leaves_no_worker(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    db = tmp_path / "stopped.db"
    proc = start_large_portfolio(tmp_path, db)
    try:
        processes = wait_for_workers(proc.pid, db)
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()
    assert err.decode() == "error: interrupted\n"
    assert counts(db) == (0, 0)
    assert no_survivors(proc.pid) == [], f"{processes} process(es) before the signal"


def test_workers_die_with_a_killed_command(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    proc = start_large_portfolio(tmp_path, db)
    try:
        processes = wait_for_workers(proc.pid, db)
        proc.send_signal(signal.SIGKILL)  # the command alone, not its workers
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert no_survivors(proc.pid) == [], f"{processes} process(es) before the kill"


def test_a_signal_after_the_commit_keeps_the_work_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the summary is being written, after the commit: the command finishes,
    says the instances are stored, and exits 0."""
    from strategy_cli.cli import render_forecast

    real = render_forecast.render_portfolio

    def interrupted_render(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C, now
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(render_forecast, "render_portfolio", interrupted_render)
    lines = tmp_path / "few.jsonl"
    lines.write_text("\n".join(loan_line(i) for i in range(7)) + "\n", encoding="utf-8")
    kit = RunKit(tmp_path)
    result = kit.cli(
        "simulate", str(LOAN), "--instances-file", str(lines), "--db", str(kit.db), "-n", "2"
    )
    assert result.code == 0, result.text
    assert result.err.strip().endswith(
        f"SIGINT arrived after the commit: the 7 simulated instance(s) are stored in {kit.db}"
    )
    assert counts(kit.db)[0] == 7
    # The handlers are the usual ones again: Ctrl-C interrupts once more.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
