"""Benchmark `strategy instance tasks` on a large store (run by hand; not a test).

Builds (once, then reuses) a store with 50,000 instances and 1,000,000 events (20 per instance:
17 finished ones of earlier cycles and 3 pending ones of the current cycle), written with the
store's own `bulk_insert` from records cloned from a real instance that the engine created for
`sample-strategies/loan-collection.yaml`. Then prints the median wall time of:

- `strategy instance tasks SID --format json --db STORE` (a subprocess, as a user runs it);
- the same query the store runs, in-process with `sqlite3` (connect, query, fetch, decode);
- `python -c pass` (interpreter start-up, for reference).

The target: the command within 100 ms of start-up plus the raw query. `--breakdown` also times
the imports the command's start-up is made of (typer, the app, typer's pydantic-based option
coercion, the store with sqlite-utils). The measures take turns, so a busy machine skews them
alike; the store (about 1.5 GB) is kept for the next run.

Example: python benchmarks/tasks.py --runs 15 --breakdown [--store PATH] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchenv import installed_env

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample-strategies" / "loan-collection.yaml"
ATTRIBUTES = {
    "loanId": "L-000001",
    "customerEmail": "customer@example.com",
    "firstDueDate": "2026-01-31T00:00:00+01:00",
    "amountCents": 125_000,
}
TARGET_MS = 100.0
# The store's query for pending tasks (Store.pending_events_of), kept identical on purpose.
PENDING_SQL = (
    "SELECT record FROM events WHERE instance_sid = ? AND status NOT IN (?, ?, ?) "
    "ORDER BY date_utc, sid"
)
TERMINAL = ("PROCESSED", "FAILED", "CANCELED")
# Imports on the command's path, cumulative: what each layer adds to start-up.
BREAKDOWN = [
    ("import typer", "import typer"),
    ("+ the app and its commands", "from strategy_cli.cli import app; app._register()"),
    (
        "+ typer's option coercion (pydantic)",
        "from strategy_cli.cli import app; app._register(); import typer._adapters",
    ),
    (
        "+ the store (sqlite-utils)",
        "from strategy_cli.cli import app; app._register(); import typer._adapters; "
        "import strategy_cli.adapters.store",
    ),
]

Record = dict[str, Any]


# --- a realistic template -------------------------------------------------------------------------


def template(events_per_instance: int) -> tuple[Record, Record, Record, list[Record]]:
    """(strategy record, instance record, instance state, events) of one real instance whose
    earlier cycles are finished (PROCESSED, with task results) and current one is pending."""
    from strategy_cli.adapters.strategies import load_strategy_file
    from strategy_cli.core.callbacks import DefaultCallbacks
    from strategy_cli.core.engine import Engine

    loaded = load_strategy_file(SAMPLE)
    strategy = loaded.record
    engine = Engine(strategy, loaded.settings, DefaultCallbacks())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    box = engine.create(ATTRIBUTES, now, now=now)
    while len(box.events) < events_per_instance:
        engine.skip_cycle(box, now)
    events = box.ordered_events()[:events_per_instance]
    current = box.instance["cycle"]
    for event in events:
        if event["createdCycle"] == current:
            continue
        date = datetime.fromisoformat(event["date"])
        event.pop("cancelReason", None)
        event.update(
            status="PROCESSED",
            attempt=1,
            scheduledAt=event["date"],
            scheduleDelta=12,
            executedAt=event["date"],
            executionDelta=15,
            finishedAt=(date + timedelta(seconds=1)).isoformat(),
            finishDelta=1015,
            executionTime=1000,
            lockOwner="runner-1",
            taskStatus={
                "lastStep": "collect" if event["main"] else "send-reminder",
                "taskResults": [
                    {
                        "step": "collect" if event["main"] else "send-reminder",
                        "success": True,
                        "data": {"chargeId": "ch_0123456789abcdef", "status": "captured"},
                        "correlationId": event["correlationId"],
                    }
                ],
            },
        )
    return strategy, box.instance, box.state, events


def synthetic(
    strategy_sid: str,
    instance: Record,
    state: Record,
    events: list[Record],
    count: int,
) -> tuple[Iterator[tuple[Record, Record]], Callable[[], Iterator[Record]], list[str]]:
    """`count` clones of the template with fresh sids and dates spread over 28 days."""
    sids = [str(uuid.uuid4()) for _ in range(count)]
    shifted = [_shift_dates(events, days) for days in range(28)]

    def instances() -> Iterator[tuple[Record, Record]]:
        for sid in sids:
            yield {**instance, "sid": sid, "strategyId": strategy_sid}, state

    def event_rows() -> Iterator[Record]:
        new = uuid.uuid4
        for i, sid in enumerate(sids):
            for ev, date in zip(events, shifted[i % 28], strict=True):
                yield {
                    **ev,
                    "sid": str(new()),
                    "instanceSid": sid,
                    "strategySid": strategy_sid,
                    "correlationId": str(new()),
                    "date": date,
                }

    return instances(), event_rows, sids


def _shift_dates(events: list[Record], days: int) -> list[str]:
    return [(datetime.fromisoformat(e["date"]) + timedelta(days=days)).isoformat() for e in events]


def build(path: Path, instances: int, per_instance: int) -> str:
    """Create the store; returns the sid of an instance in the middle of it."""
    from strategy_cli.adapters.store import Store

    strategy, instance, state, events = template(per_instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    with Store(path) as store, store.transaction():
        store.put_strategy(strategy)
        rows, event_rows, sids = synthetic(strategy["sid"], instance, state, events, instances)
        store.bulk_insert(rows, event_rows(), simulated=False)
    print(
        f"built {path}: {instances:,} instances, {instances * per_instance:,} events "
        f"in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:,.0f} MB)",
        flush=True,
    )
    return sids[len(sids) // 2]


def existing(path: Path, instances: int, per_instance: int) -> str | None:
    """The middle instance's sid if `path` already holds a store of the wanted size."""
    if not path.is_file():
        return None
    with sqlite3.connect(path) as conn:
        try:
            n_inst = conn.execute("SELECT count(*) FROM instances").fetchone()[0]
            n_ev = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        except sqlite3.Error:
            return None
        if (n_inst, n_ev) != (instances, instances * per_instance):
            return None
        row = conn.execute(
            "SELECT sid FROM instances ORDER BY sid LIMIT 1 OFFSET ?", (instances // 2,)
        ).fetchone()
    return str(row[0])


# --- timing ---------------------------------------------------------------------------------------


def median_ms(runs: int, actions: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Wall times of each action in milliseconds, `runs` rounds after one warm-up round. The
    actions take turns within a round, so a busy machine slows them all alike."""
    times: dict[str, list[float]] = {label: [] for label in actions}
    for round_ in range(runs + 1):
        for label, action in actions.items():
            started = time.perf_counter()
            action()
            if round_:
                times[label].append((time.perf_counter() - started) * 1000)
    return times


def raw_query(path: Path, sid: str) -> int:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(PENDING_SQL, (sid, *TERMINAL)).fetchall()
        return len([json.loads(r[0]) for r in rows])
    finally:
        conn.close()


def command() -> list[str]:
    """The installed `strategy` script beside this interpreter, else `python -m strategy_cli`."""
    script = Path(sys.executable).parent / "strategy"
    if script.is_file():
        return [str(script)]
    found = shutil.which("strategy")
    return [found] if found else [sys.executable, "-m", "strategy_cli"]


ENV = installed_env()


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, check=False, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode(errors='replace')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/strategy-bench/tasks.db"))
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--events-per-instance", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each measure (10+)")
    parser.add_argument("--rebuild", action="store_true", help="build the store even if present")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the imports start-up is made of"
    )
    args = parser.parse_args()

    sid = None if args.rebuild else existing(args.store, args.instances, args.events_per_instance)
    if sid is None:
        sid = build(args.store, args.instances, args.events_per_instance)
    else:
        print(f"reusing {args.store} ({args.store.stat().st_size / 1e6:,.0f} MB)")

    argv = [*command(), "instance", "tasks", sid, "--format", "json", "--db", str(args.store)]
    check = subprocess.run(argv, capture_output=True, check=False, env=ENV)
    if check.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{check.stderr.decode(errors='replace')}")
    tasks = json.loads(check.stdout)
    pending = raw_query(args.store, sid)
    assert len(tasks) == pending, (len(tasks), pending)

    python = sys.executable
    actions: dict[str, Callable[[], object]] = {
        "strategy instance tasks --format json": lambda: run(argv),
        "raw SQL query (sqlite3, in-process)": lambda: raw_query(args.store, sid),
        "python -c pass": lambda: run([python, "-c", "pass"]),
    }
    if args.breakdown:  # what the start-up is made of (imports only, no work)
        for label, code in BREAKDOWN:
            actions[label] = lambda code=code: run([python, "-c", code])
    times = median_ms(args.runs, actions)
    med = {label: statistics.median(values) for label, values in times.items()}
    print(f"instance {sid}: {pending} pending task(s), {len(check.stdout):,} bytes of JSON")
    print(f"median of {args.runs} runs (min-max), milliseconds:")
    for label, values in times.items():
        print(f"  {label:<48} {med[label]:8.1f}  ({min(values):.1f}-{max(values):.1f})")
    cmd, raw, bare = list(med.values())[:3]
    over = cmd - bare - raw
    verdict = "OK" if over <= TARGET_MS else "TOO SLOW"
    print(f"command - start-up - query = {over:.1f} ms (target <= {TARGET_MS:.0f} ms): {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
