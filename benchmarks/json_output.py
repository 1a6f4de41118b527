"""Benchmark `strategy simulate --format json` of one long-running instance (run by hand:
`python benchmarks/json_output.py [--cycles 1200] [--runs 5]`; not a test).

Prints, side by side, for the loan-collection sample over N cycles:

- the JSON encoding of the simulated document alone: the standard library's `json.dumps`
  (the baseline, what the command used before) against `console.json_text` (orjson), CPU time;
- the whole command in a subprocess (wall and CPU time of the child), for scale.

Minimum and median of several runs each, measured in the same run (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchenv import installed_env

ROOT = Path(__file__).resolve().parent.parent
LOAN = ROOT / "sample-strategies" / "loan-collection.yaml"
ATTRS = (
    '{"loanId": "L-1", "customerEmail": "a@example.com",'
    ' "firstDueDate": "2027-01-31T00:00:00+01:00", "amountCents": 100}'
)


def _document(cycles: int) -> object:
    from strategy_cli.adapters.strategies import load_strategy_file
    from strategy_cli.core.simulate import document, simulate
    from strategy_cli.core.timecalc import get_zone, parse_instant

    loaded = load_strategy_file(LOAN)
    record = {"sid": "bench", "name": "loan-collection", "version": 1}
    start = parse_instant("2027-01-10T09:00:00", get_zone("Europe/Berlin"))
    box = simulate(record, loaded.settings, json.loads(ATTRS), start, cycles=cycles)
    return document(box)


def _cpu(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()  # type: ignore[operator]
        out.append(time.process_time() - t0)
    return out


def _command(cycles: int, runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    cmd = [sys.executable, "-m", "strategy_cli", "simulate", str(LOAN), "--cycles", str(cycles)]
    cmd += ["--start", "2027-01-10T09:00:00", "--attributes", ATTRS]
    cmd += ["--format", "json", "--db", ":memory:"]
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=installed_env())
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def _line(label: str, values: list[float]) -> str:
    return f"{label:<44} min {min(values):7.3f} s   median {statistics.median(values):7.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from strategy_cli.cli.console import json_text

    doc = _document(args.cycles)
    size = len(json_text(doc))
    print(f"document of {args.cycles} cycles: {size / 1e6:.1f} MB of JSON")
    base = _cpu(lambda: json.dumps(doc, indent=2, ensure_ascii=False, default=str), args.runs)
    fast = _cpu(lambda: json_text(doc), args.runs)
    print(_line("encode, json.dumps (baseline), CPU", base))
    print(_line("encode, json_text (orjson), CPU", fast))
    print(f"{'speed-up (median)':<44} {statistics.median(base) / statistics.median(fast):.1f}x")
    walls, cpus = _command(args.cycles, args.runs)
    print(_line("whole command, wall", walls))
    print(_line("whole command, CPU", cpus))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
