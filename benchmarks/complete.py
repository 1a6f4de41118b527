"""Benchmark shell completion on a large store (run by hand: `python benchmarks/complete.py`).

Reuses the store of benchmarks/tasks.py (50,000 instances; built by it when missing) and prints
the median wall time of the completion helper answering `strategy instance tasks <TAB>` and
`strategy instance tasks <prefix><TAB>`, next to `python -c pass`. Target: under 100 ms.

Example: python benchmarks/complete.py --runs 20
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tasks

TARGET_MS = 100.0


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=tasks.ENV)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/strategy-bench/tasks.db"))
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sid = tasks.existing(args.store, args.instances, 20) or tasks.build(
        args.store, args.instances, 20
    )
    helper = shutil.which("strategy-complete") or "strategy-complete"
    line = ["strategy", "instance", "tasks", "--db", str(args.store)]
    empty = timed([helper, "5", *line, ""], args.runs)
    prefix = timed([helper, "5", *line, sid[:3]], args.runs)
    floor = timed([sys.executable, "-c", "pass"], args.runs)
    sample = subprocess.run([helper, "5", *line, sid[:3]], capture_output=True, text=True).stdout
    print(f"store: {args.store} ({args.instances} instances)")
    print(f"python -c pass                          {floor:7.1f} ms")
    print(f"complete `instance tasks <TAB>`         {empty:7.1f} ms  (200 candidates max)")
    print(
        f"complete `instance tasks {sid[:3]}<TAB>`      {prefix:7.1f} ms  ({len(sample.split())} candidates)"
    )
    verdict = "met" if max(empty, prefix) < TARGET_MS else "missed"
    print(f"target: under {TARGET_MS:.0f} ms -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
