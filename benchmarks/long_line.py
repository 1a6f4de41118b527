"""Benchmark `strategy validate`'s text output on one huge line (run by hand; not a test).

A minified strategy is one line; every finding shows its source line with a caret. This times
`strategy validate FILE` (text format, one subprocess per run) on a one-line JSON strategy of
about 5 MB (under the 5 MiB file limit, so it is parsed) with findings at its far end, and on the
same strategy without the padding as a baseline, and prints the minimum and the median of the
wall time and of the CPU time (user + system of the child) side by side.

Example: python benchmarks/long_line.py --runs 5 --size 5000000 --findings 20
(`PYTHONPATH=/path/to/other/checkout` measures another version of the code the same way.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from benchenv import installed_env

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample-strategies" / "loan-collection.yaml"


def strategy(padding: int, findings: int) -> str:
    """The sample as one line of JSON: a `padding`-character description, then `findings`
    unknown keys at the far end of the line (each shows the line with a caret)."""
    data: dict[str, Any] = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["description"] = "x" * padding
    data["settings"].update({f"unknownKey{i}": i for i in range(findings)})
    return json.dumps(data, separators=(",", ":"))


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `strategy ARGS` (output discarded)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "strategy_cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"strategy {' '.join(args)} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(path: Path, runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = timed(["validate", str(path), "--format", "text"], env)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per file (default 5)")
    parser.add_argument("--size", type=int, default=5_000_000, help="big file's bytes")
    parser.add_argument("--findings", type=int, default=20, help="findings on the line")
    args = parser.parse_args()
    env = installed_env()
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.json"
        small.write_text(strategy(10, args.findings), encoding="utf-8")
        big = Path(tmp) / "big.json"
        padding = args.size - len(strategy(0, args.findings).encode())
        big.write_text(strategy(max(padding, 0), args.findings), encoding="utf-8")
        timed(["validate", str(small)], env)  # warm the bytecode cache
        rows = [("small", small), ("5 MB line", big)]
        print(
            f"{'file':<11}{'bytes':>11}  {'wall min':>9}{'wall med':>9}  {'cpu min':>9}{'cpu med':>9}"
        )
        for label, path in rows:
            walls, cpus = measure(path, args.runs, env)
            print(
                f"{label:<11}{path.stat().st_size:>11}  {min(walls):>8.3f}s{statistics.median(walls):>8.3f}s"
                f"  {min(cpus):>8.3f}s{statistics.median(cpus):>8.3f}s"
            )
    print(f"({args.runs} runs each, {args.findings} findings at the end of the line, text format)")


if __name__ == "__main__":
    main()
