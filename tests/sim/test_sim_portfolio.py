"""`simulate --instances-file` in worker processes: the store ends up as a sequential run leaves
it, and a bad line fails the whole run the same way (the first bad line, nothing stored)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES

from strategy_cli.adapters import portfolio
from strategy_cli.adapters.portfolio import PortfolioResult, run_portfolio
from strategy_cli.adapters.scenario_file import load_scenario
from strategy_cli.adapters.store import Store
from strategy_cli.adapters.strategies import apply_strategy, load_strategy_file
from strategy_cli.errors import StrategyError

LOAN = SAMPLES / "loan-collection.yaml"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def loan_line(i: int) -> str:
    attrs = {
        "loanId": f"L{i}",
        "customerEmail": f"c{i}@example.com",
        "firstDueDate": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00+01:00",
        "amountCents": 1000 + i,
    }
    return json.dumps({"attributes": attrs, "start": f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00Z"})


def simulate(tmp_path: Path, name: str, lines: list[str], workers: int) -> tuple[Store, Any]:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = tmp_path / "s.yaml"  # retries and a paused instance, not only successes
    scenario.write_text("outcomes:\n  charge.collect: [ok, fail, fail, ok, fail, fail, fail]\n")
    loaded = load_strategy_file(LOAN)
    store = Store(tmp_path / f"{name}.db")
    record, _ = apply_strategy(store, loaded)
    plan = load_scenario(scenario, loaded.settings)
    try:
        return store, run_portfolio(
            store, record, loaded.settings, path, 5, plan, True, workers=workers
        )
    except StrategyError as exc:
        return store, exc


def dump(store: Store) -> str:
    """Every stored row, in a canonical order, with each UUID named by its first appearance."""
    conn = sqlite3.connect(store.path)
    instances = sorted(
        conn.execute("SELECT * FROM instances"),
        key=lambda row: json.loads(row[6])["attributes"]["loanId"],
    )
    out = []
    for row in instances:
        out.append(json.dumps(row[1:]))
        events = conn.execute("SELECT * FROM events WHERE instance_sid = ?", (row[0],))
        out += [json.dumps(e) for e in sorted(events, key=lambda e: json.loads(e[6])["_seq"])]
    names: dict[str, str] = {}
    return UUID.sub(lambda m: names.setdefault(m.group(0), f"uuid{len(names)}"), "\n".join(out))


def test_workers_store_what_a_sequential_run_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portfolio, "CHUNK", 4)  # several chunks per worker, out of order
    lines = [loan_line(i) for i in range(30)]
    store_seq, seq = simulate(tmp_path, "seq", lines, workers=0)
    store_par, par = simulate(tmp_path, "par", lines, workers=2)
    assert isinstance(seq, PortfolioResult) and isinstance(par, PortfolioResult)
    assert (par.instances, par.events, par.calls) == (seq.instances, seq.events, seq.calls)
    assert seq.instances == 30 and sum(seq.calls.values()) > 0
    assert dump(store_par) == dump(store_seq)


@pytest.mark.parametrize("workers", [0, 2])
def test_the_first_bad_line_fails_the_run_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(portfolio, "CHUNK", 3)
    lines = [loan_line(i) for i in range(20)]
    lines[13] = "{oops"  # a later chunk: a worker may well reach it first
    lines[8] = json.dumps({"attributes": {"loanId": 7}, "start": "2026-01-01T00:00Z"})
    store, error = simulate(tmp_path, f"bad{workers}", lines, workers=workers)
    assert isinstance(error, StrategyError)
    assert ".jsonl:9: attributes do not match instanceValidation" in error.message
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT count(*) FROM instances").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_a_line_that_is_not_json_is_named_by_the_workers_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portfolio, "CHUNK", 3)
    lines = [loan_line(i) for i in range(12)]
    lines[10] = "[1, 2]"
    _, error = simulate(tmp_path, "notobject", lines, workers=2)
    assert isinstance(error, StrategyError)
    assert ".jsonl:11:1: each line must be an object" in error.message


@pytest.mark.parametrize("workers", [0, 2])
def test_a_line_that_is_not_utf8_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(portfolio, "CHUNK", 3)
    path = tmp_path / "latin1.jsonl"
    lines = [loan_line(i).encode() for i in range(9)]
    lines[7] = '{"attributes": {"loanId": "Müller"}}'.encode("latin-1")
    path.write_bytes(b"\n".join(lines) + b"\n")
    loaded = load_strategy_file(LOAN)
    store = Store(tmp_path / "latin1.db")
    record, _ = apply_strategy(store, loaded)
    with pytest.raises(StrategyError) as caught:
        run_portfolio(store, record, loaded.settings, path, 2, None, False, workers=workers)
    assert caught.value.message.endswith("latin1.jsonl:8:29: not UTF-8 text (byte 0xfc)")
    assert sqlite3.connect(store.path).execute("SELECT count(*) FROM events").fetchone() == (0,)


def start_large_portfolio(tmp_path: Path, db: Path) -> subprocess.Popen[bytes]:
    """`strategy simulate` of 20,000 loans (several seconds of work), in its own process group
    (so that a signal reaches it and its workers, as a terminal's Ctrl-C does)."""
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(loan_line(i) for i in range(20_000)) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "strategy_cli", "simulate", str(LOAN)]
    return subprocess.Popen(
        [*command, "--instances-file", str(path), "--db", str(db), "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_ctrl_c_says_so_and_stores_nothing(tmp_path: Path) -> None:
    """The terminal's Ctrl-C reaches the whole process group: the command and its workers."""
    db = tmp_path / "ctrl-c.db"
    proc = start_large_portfolio(tmp_path, db)
    deadline = time.monotonic() + 60
    while not db.exists() and time.monotonic() < deadline:  # the run has started
        time.sleep(0.05)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode() == "error: interrupted\n"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM instances").fetchone() == (0,)


def test_a_lone_portfolio_write_skips_the_wal_and_leaves_the_store_in_wal(tmp_path: Path) -> None:
    lines = [loan_line(i) for i in range(12)]
    store, result = simulate(tmp_path, "lone", lines, workers=0)
    assert isinstance(result, PortfolioResult) and result.instances == 12
    assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL again
    conn = sqlite3.connect(store.path)
    assert conn.execute("SELECT count(*) FROM instances").fetchone() == (12,)


def test_a_store_someone_else_has_open_keeps_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store(path).close()
    other = sqlite3.connect(path)
    other.execute("SELECT count(*) FROM events").fetchone()  # an idle reader, as a runner is
    with Store(path) as store, store.bulk_transaction():
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        store.put_events([{"sid": "e", "instanceSid": "i", "status": "PENDING",
                           "date": "2026-01-01T00:00:00Z"}])  # fmt: skip
    assert other.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_a_write_killed_midway_is_rolled_back_at_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    journal = tmp_path / "killed.db-journal"
    proc = start_large_portfolio(tmp_path, db)
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.0)  # well into the write
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert journal.exists()  # a hot journal: the write was cut short
    with Store(db) as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert store.conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
        assert store.conn.execute("SELECT count(*) FROM instances").fetchone() == (0,)
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_output_nobody_reads_loses_nothing(tmp_path: Path) -> None:
    """`simulate ... | head -1`: the pipe closes before the summary is written."""
    path = tmp_path / "few.jsonl"
    path.write_text("\n".join(loan_line(i) for i in range(20)) + "\n", encoding="utf-8")
    db = tmp_path / "piped.db"
    command = [sys.executable, "-m", "strategy_cli", "simulate", str(LOAN), "--forecast"]
    proc = subprocess.Popen(
        [*command, "--instances-file", str(path), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # nobody reads
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM instances").fetchone() == (20,)
