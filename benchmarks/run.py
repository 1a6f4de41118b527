"""Benchmark `strategy run` against a bare httpx loop (run by hand, not by pytest).

    python benchmarks/run.py [--events 5000] [--concurrency 50] [--profile FILE]

Starts a fast local HTTP server in its own process (tests/servers.py `fast`), then:
1. bare: one httpx.AsyncClient, asyncio.Semaphore(concurrency), the same number of POSTs;
2. runner: a fresh store with that many due events (one instance each, one HTTP call per event),
   then `strategy run --concurrency N` as a child process, timed end to end (process start
   included), and the store checked: every event PROCESSED.
Prints events (requests) per second for both and the ratio. The target is a ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchenv import installed_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import free_port, strategy_doc, wait_until  # noqa: E402


def start_server() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "servers.py"), "fast", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{port}"


async def bare(url: str, n: int, concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            async with gate:
                r = await client.post(
                    url + "/hook",
                    json={"id": f"c{i}"},
                    headers={"X-Correlation-Id": f"c{i}", "Idempotency-Key": f"e{i}:call:1"},
                )
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - started


def make_store(db: Path, url: str, n: int) -> None:
    from strategy_cli.adapters.store import Store
    from strategy_cli.adapters.strategies import apply_strategy, load_strategy_file
    from strategy_cli.core.callbacks import DefaultCallbacks
    from strategy_cli.core.engine import Engine

    path = db.parent / "bench.json"
    path.write_text(json.dumps(strategy_doc("bench", url)))
    loaded = load_strategy_file(path)
    now = datetime.now(UTC)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with Store(db) as store:
        record, _ = apply_strategy(store, loaded)
        engine = Engine(record, loaded.settings, DefaultCallbacks())
        boxes = [engine.create({"id": f"c{i}"}, start, now=now) for i in range(n)]
        store.bulk_insert(
            ((b.instance, b.state) for b in boxes),
            (e for b in boxes for e in b.events.values()),
            simulated=False,
        )


def run_runner(db: Path, concurrency: int, profile: str | None) -> tuple[float, str]:
    cmd = [sys.executable]
    if profile:
        cmd += ["-m", "cProfile", "-o", profile]
        cmd += [str(ROOT / "strategy_cli" / "__main__.py")]
    else:
        cmd += ["-m", "strategy_cli"]
    cmd += ["run", "--db", str(db), "--concurrency", str(concurrency)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=installed_env())
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"strategy run failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed, done.stdout.strip().splitlines()[0]


def count_processed(db: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT status, count(*) FROM events GROUP BY status"))
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--profile", help="cProfile output file for the runner")
    args = parser.parse_args()
    n, c = args.events, args.concurrency

    server, url = start_server()
    try:
        assert wait_until(lambda: True)
        bare_s = asyncio.run(bare(url, n, c))
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "store.db"
            t0 = time.perf_counter()
            make_store(db, url, n)
            setup_s = time.perf_counter() - t0
            run_s, summary = run_runner(db, c, args.profile)
            statuses = count_processed(db)
    finally:
        server.kill()
        server.wait()

    bare_rate, run_rate = n / bare_s, n / run_s
    print(f"{n} events, concurrency {c}, {os.cpu_count()} CPU(s); store set up in {setup_s:.1f}s")
    print(f"  bare httpx loop : {bare_s:7.2f}s  {bare_rate:8.0f} requests/s")
    print(f"  strategy run    : {run_s:7.2f}s  {run_rate:8.0f} events/s   ({summary})")
    print(f"  ratio           : {run_rate / bare_rate:.2f} (target >= 0.50)")
    print(f"  event statuses  : {statuses}")
    if statuses.get("PROCESSED") != n:
        raise SystemExit("not every event was PROCESSED")


if __name__ == "__main__":
    main()
