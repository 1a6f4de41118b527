"""Benchmark `strategy simulate --instances-file` (run by hand: `python benchmarks/simulate.py`;
not a test).

Generates a strategy with 12 monthly cycles (a first-cycle calendar and a monthly one), each cycle
with a main task and two leading-up tasks, and a JSON-lines file of instances (default 10,000, so
about 360,000 events), then prints, side by side:

- events/second of `strategy simulate FILE --instances-file F --cycles 12 --db TMP --format json`
  (one subprocess, wall time), and its peak memory (the summed RSS of the command and
  its worker processes, sampled every 100 ms);
- events/second of a plain sqlite3 `executemany` insert of as many rows of the same size into a
  fresh database (the floor: what writing the rows costs with nothing else to do).

Targets: at least a quarter of the raw insert rate, and peak memory under 300 MB.

Example: python benchmarks/simulate.py --instances 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from benchenv import installed_env

CYCLES = 12
TARGET_SHARE_OF_FLOOR = 0.25
TARGET_PEAK_MB = 300


def strategy() -> dict[str, Any]:
    leads = [
        {"task": "remind-early", "scheduleBefore": {"unit": "days", "amount": 3}},
        {"task": "remind-late", "scheduleBefore": {"unit": "days", "amount": 1}},
    ]

    def task(key: str, action: str) -> dict[str, Any]:
        return {
            "key": key,
            "steps": [{"key": "go", "action": action, "final": True}],
            "initialStep": "go",
        }

    return {
        "name": "bench-simulate",
        "settings": {
            "config": {
                "timezone": "Europe/Berlin",
                "instanceValidation": {
                    "properties": {
                        "accountId": {"type": "string"},
                        "email": {"type": "string"},
                        "amountCents": {"type": "uint32"},
                    }
                },
            },
            "schedule": {
                "calendars": [
                    {
                        "key": "first",
                        "runOnCycle": 1,
                        "scheduleAfter": {
                            "unit": "days",
                            "amount": 7,
                            "resetTo": {"hour": 9, "minute": 0},
                        },
                        "task": "charge",
                        "leadingUpTasks": leads,
                    },
                    {
                        "key": "monthly",
                        "scheduleAfter": {"unit": "months", "amount": 1},
                        "task": "charge",
                        "leadingUpTasks": leads,
                    },
                ]
            },
            "services": [
                {
                    "key": "payments",
                    "baseUrls": [{"environment": "sandbox", "url": "https://payments.example.com"}],
                    "methods": [{"key": "charge", "url": "/charges", "method": "post"}],
                },
                {
                    "key": "mail",
                    "baseUrls": [{"environment": "sandbox", "url": "https://mail.example.com"}],
                    "methods": [{"key": "send", "url": "/messages", "method": "post"}],
                },
            ],
            "tasks": [
                task("charge", "charge-card"),
                task("remind-early", "reminder"),
                task("remind-late", "reminder"),
            ],
            "actions": [
                {
                    "key": "charge-card",
                    "service": "payments",
                    "method": "charge",
                    "data": {
                        "account": "{{ attributes.accountId }}",
                        "amount": "{{ attributes.amountCents }}",
                    },
                },
                {
                    "key": "reminder",
                    "service": "mail",
                    "method": "send",
                    "data": {"to": "{{ attributes.email }}", "due": "{{ instance.executionDate }}"},
                },
            ],
        },
    }


def write_inputs(folder: Path, instances: int) -> tuple[Path, Path]:
    rng = random.Random(42)
    spath = folder / "strategy.json"
    spath.write_text(json.dumps(strategy(), indent=2), encoding="utf-8")
    ipath = folder / "instances.jsonl"
    with ipath.open("w", encoding="utf-8") as out:
        for i in range(instances):
            start = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
            attrs = {
                "accountId": f"A{i:06d}",
                "email": f"user{i}@example.com",
                "amountCents": 100 + i,
            }
            out.write(json.dumps({"attributes": attrs, "start": start}) + "\n")
    return spath, ipath


def run_simulate(spath: Path, ipath: Path, db: Path) -> tuple[float, float, int, float]:
    """Wall seconds, CPU seconds, events simulated, and the peak of the summed RSS (MB) of the
    command and its worker processes."""
    cmd = [sys.executable, "-m", "strategy_cli", "simulate", str(spath)]
    cmd += [
        "--instances-file",
        str(ipath),
        "--cycles",
        str(CYCLES),
        "--db",
        str(db),
        "--format",
        "json",
    ]
    began = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=installed_env(db.parent / "pycache"),
    )
    peak = [0]
    sampler = threading.Thread(target=sample_tree_rss, args=(proc, peak), daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - began
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"strategy simulate failed ({proc.returncode}):\n{err}")
    events = int(json.loads(out)["events"])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers
    single = usage.ru_maxrss / 1024  # KB on Linux: the largest single process
    return wall, usage.ru_utime + usage.ru_stime, events, max(peak[0] / 1024, single)


def sample_tree_rss(proc: subprocess.Popen[str], peak: list[int]) -> None:
    """Every 100 ms, the summed RSS (KB) of `proc` and its descendants (Linux /proc)."""
    while proc.poll() is None:
        peak[0] = max(peak[0], sum(rss_kb(pid) for pid in tree(proc.pid)))
        time.sleep(0.1)


def tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [child for child, parent in parents.items() if parent == pid]
    return found


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def average_row_bytes(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (size,) = conn.execute("SELECT avg(length(record)) FROM events").fetchone()
    return int(size or 0)


def raw_insert(db: Path, rows: int, record_bytes: int) -> tuple[float, float]:
    """Wall and CPU seconds of a plain executemany of `rows` event-like rows into a fresh db."""
    filler = json.dumps({"task": "x" * max(record_bytes - 20, 0)})
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE events (sid TEXT PRIMARY KEY, instance_sid TEXT, status TEXT, "
        "date_utc TEXT, main INTEGER, simulated INTEGER, record TEXT)"
    )
    instance = str(uuid.uuid4())
    data = [
        (
            str(uuid.uuid4()),
            instance,
            "PROCESSED",
            f"2026-01-01T00:00:{i % 60:02d}Z",
            i % 3 == 0,
            1,
            filler,
        )
        for i in range(rows)
    ]
    began, cpu = time.perf_counter(), time.process_time()
    with conn:
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", data)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    conn.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
        folder = Path(tmp)
        spath, ipath = write_inputs(folder, args.instances)
        print(f"{args.instances} instances x {CYCLES} cycles (main + 2 leading-up tasks each)")
        os.sync()  # each timed write starts with no other write-back in flight
        wall, cpu, events, peak_mb = run_simulate(spath, ipath, folder / "store.db")
        size = average_row_bytes(folder / "store.db")
        os.sync()
        floor, floor_cpu = raw_insert(folder / "floor.db", events, size)
    rate, floor_rate = events / wall, events / floor
    share = rate / floor_rate
    head = f"{'':34}{'events':>9}{'wall s':>8}{'events/s':>10}{'CPU s':>8}{'ev/CPU s':>10}"
    print(head)
    for label, secs, cpu_s in (
        ("strategy simulate --instances-file", wall, cpu),
        ("sqlite3 executemany (floor)", floor, floor_cpu),
    ):
        row = f"{label:34}{events:>9}{secs:>8.2f}{events / secs:>10,.0f}"
        print(row + f"{cpu_s:>8.2f}{events / max(cpu_s, 1e-9):>10,.0f}")
    print(f"average event record: {size} bytes; CPU-time share of the floor: {floor_cpu / cpu:.1%}")
    ok_rate = share >= TARGET_SHARE_OF_FLOOR
    ok_mem = peak_mb < TARGET_PEAK_MB
    print(
        f"rate: {share:.1%} of the floor (target >= {TARGET_SHARE_OF_FLOOR:.0%}): "
        f"{'ok' if ok_rate else 'MISSED'}"
    )
    print(
        f"peak memory, all processes: {peak_mb:.0f} MB (target < {TARGET_PEAK_MB} MB): {'ok' if ok_mem else 'MISSED'}"
    )
    sys.exit(0 if ok_rate and ok_mem else 1)


if __name__ == "__main__":
    main()
