"""Benchmark `strategy validate` (run by hand: `python benchmarks/validate.py`; not a test).

Generates a corpus of strategy files (about 200 lines each, 10% with errors: unknown keys,
dangling steps, wrong enums) in a temporary folder, then prints, side by side on the same files:

- files/second of `strategy validate DIR --format json` (one subprocess, wall time, best of N);
- files/second of `check-jsonschema --schemafile <schema from strategy schema> FILES...`;
- the median wall time of `strategy --help` and of validating one file.

Example: python benchmarks/validate.py --files 1000 --repeat 3 --runs 15
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from benchenv import installed_env

TARGET_FILES_PER_SECOND = 1000
TARGET_STARTUP_MS = 150
ERROR_KINDS = ("unknown-key", "unknown-step", "enum-value")


# --- corpus -----------------------------------------------------------------------------------


def strategy(i: int, tasks: int) -> dict[str, Any]:
    """One realistic strategy: a first-cycle and a monthly calendar, `tasks` two-step tasks."""
    keys = [f"task-{t}" for t in range(tasks)]
    return {
        "name": f"bench-{i:05d}",
        "description": f"Generated strategy number {i}",
        "version": 1 + i % 3,
        "settings": {
            "config": {
                "timezone": ("UTC", "Europe/Berlin", "America/New_York")[i % 3],
                "requestDelayTime": 100,
                "instanceValidation": {
                    "properties": {
                        "accountId": {"type": "string"},
                        "email": {"type": "string"},
                        "startsOn": {"type": "timestamp"},
                        "amountCents": {"type": "uint32"},
                    },
                    "optionalProperties": {"locale": {"type": "string"}},
                },
            },
            "schedule": {
                "calendars": [
                    {
                        "key": "first",
                        "runOnCycle": 1,
                        "scheduleAfter": {
                            "unit": "days",
                            "amount": 0,
                            "from": "startsOn",
                            "resetTo": {"hour": 9, "minute": 0},
                        },
                        "task": keys[0],
                    },
                    {
                        "key": "monthly",
                        "scheduleAfter": {"unit": "months", "amount": 1},
                        "task": keys[0],
                        "leadingUpTasks": [
                            {"task": k, "scheduleBefore": {"unit": "days", "amount": 1 + n % 5}}
                            for n, k in enumerate(keys[1:4])
                        ],
                    },
                ],
            },
            "onCreateTasks": [{"task": keys[-1]}],
            "services": [_service("api", i), _service("mail", i)],
            "tasks": [_task(k, t) for t, k in enumerate(keys)],
            "actions": [_action(k) for k in keys] + [_mail(k) for k in keys],
        },
    }


def _service(key: str, i: int) -> dict[str, Any]:
    return {
        "key": key,
        "baseUrls": [
            {"environment": "sandbox", "url": f"https://sandbox.{key}.example.com/v{1 + i % 2}"},
            {"environment": "production", "url": f"https://{key}.example.com/v{1 + i % 2}"},
        ],
        "methods": [
            {
                "key": "call",
                "url": "/calls",
                "method": "post",
                "responseValidation": {"properties": {"id": {"type": "string"}}},
            }
        ],
    }


def _task(key: str, t: int) -> dict[str, Any]:
    return {
        "key": key,
        "description": f"Task {t}: call the API, then confirm by e-mail.",
        "retryConfig": {"times": 2, "retryAfter": {"unit": "hours", "amount": 1 + t % 3}},
        "steps": [
            {"key": "call", "action": f"{key}-call", "nextStep": "confirm"},
            {"key": "confirm", "action": f"{key}-mail", "optional": True, "final": True},
        ],
        "initialStep": "call",
    }


def _action(key: str) -> dict[str, Any]:
    return {
        "key": f"{key}-call",
        "service": "api",
        "method": "call",
        "headers": {"X-Account": "{{ attributes.accountId }}"},
        "data": {"accountId": "{{ attributes.accountId }}", "cycle": "{{ instance.cycle }}"},
    }


def _mail(key: str) -> dict[str, Any]:
    return {
        "key": f"{key}-mail",
        "service": "mail",
        "method": "call",
        "data": {"to": "{{ attributes.email }}", "ref": "{{ steps.call.data.id }}"},
    }


def break_it(doc: dict[str, Any], kind: str) -> None:
    """Introduce one error of `kind` into a generated strategy."""
    task = doc["settings"]["tasks"][1]
    if kind == "unknown-key":
        task["steps"][0]["nextstep"] = task["steps"][0].pop("nextStep")
    elif kind == "unknown-step":
        task["steps"][0]["nextStep"] = "confirmation"
    else:
        doc["settings"]["schedule"]["calendars"][1]["scheduleAfter"]["unit"] = "weeks"


def render(doc: dict[str, Any]) -> str:
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100)
    return "# yaml-language-server: $schema=strategy.schema.json\n" + body


def tasks_for(lines: int) -> int:
    """The number of tasks that makes a generated file about `lines` lines long."""
    one, two = (render(strategy(0, n)).count("\n") for n in (4, 5))
    return max(4, 4 + round((lines - one) / max(1, two - one)))


def write_corpus(folder: Path, count: int, lines: int) -> tuple[list[Path], int]:
    tasks = tasks_for(lines)
    paths = []
    for i in range(count):
        doc = strategy(i, tasks)
        if i % 10 == 0:
            break_it(doc, ERROR_KINDS[(i // 10) % len(ERROR_KINDS)])
        path = folder / f"strategy-{i:05d}.yaml"
        path.write_text(render(doc), encoding="utf-8")
        paths.append(path)
    return paths, render(strategy(0, tasks)).count("\n")


# --- timing -----------------------------------------------------------------------------------


ENV: dict[str, str] = {}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV or None
    )
    return time.perf_counter() - start


def best(cmd: list[str], repeat: int) -> float:
    wall(cmd)  # warm the bytecode and OS caches once
    return min(wall(cmd) for _ in range(repeat))


def median(cmd: list[str], runs: int) -> float:
    wall(cmd)  # warm the OS caches once
    return statistics.median(wall(cmd) for _ in range(runs))


def strategy_command() -> list[str]:
    script = Path(sys.executable).with_name("strategy")
    if script.is_file():
        return [str(script)]
    found = shutil.which("strategy")
    return [found] if found else [sys.executable, "-m", "strategy_cli"]


def check_outcome(cmd: list[str], folder: Path, expected: int) -> str:
    """Sanity check: exactly the broken files have errors."""
    import json

    proc = subprocess.run(
        [*cmd, "validate", str(folder), "--format", "json"], capture_output=True, env=ENV or None
    )
    report = json.loads(proc.stdout)
    failing = {f["file"] for f in report["findings"] if f["severity"] == "error"}
    status = "as expected" if len(failing) == expected else f"UNEXPECTED, wanted {expected}"
    return (
        f"{report['summary']['files']} files, {report['summary']['errors']} errors in "
        f"{len(failing)} files ({status}), exit {proc.returncode}"
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--lines", type=int, default=200, help="lines per file (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="corpus runs, best kept (3)")
    parser.add_argument("--runs", type=int, default=15, help="runs for the medians (15)")
    args = parser.parse_args()

    cmd = strategy_command()
    with tempfile.TemporaryDirectory(prefix="strategy-bench-") as tmp:
        ENV.update(installed_env(Path(tmp) / "pycache"))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at start")
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        paths, lines = write_corpus(folder, args.files, args.lines)
        schema = Path(tmp) / "strategy.schema.json"
        subprocess.run(
            [*cmd, "schema", "--output", str(schema)], check=True, capture_output=True, env=ENV
        )
        broken = sum(1 for i in range(args.files) if i % 10 == 0)
        print(f"corpus: {len(paths)} files of ~{lines} lines, {broken} with errors, in {folder}")
        print(f"strategy validate: {check_outcome(cmd, folder, broken)}")

        ours = best([*cmd, "validate", str(folder), "--format", "json"], args.repeat)
        ours_rate = len(paths) / ours
        print(f"\n{'tool':<48}{'wall (best of ' + str(args.repeat) + ')':>20}{'files/s':>10}")
        print(f"{'strategy validate DIR --format json':<48}{ours:>19.2f}s{ours_rate:>10.0f}")
        checker = shutil.which("check-jsonschema") or str(
            Path(sys.executable).with_name("check-jsonschema")
        )
        theirs_rate = None
        if Path(checker).is_file():
            theirs = best([checker, "--schemafile", str(schema), *map(str, paths)], args.repeat)
            theirs_rate = len(paths) / theirs
            print(
                f"{'check-jsonschema --schemafile SCHEMA FILES...':<48}{theirs:>19.2f}s"
                f"{theirs_rate:>10.0f}"
            )
        else:
            print("check-jsonschema: not installed, skipped")

        one = paths[1]
        help_ms = 1000 * median([*cmd, "--help"], args.runs)
        one_ms = 1000 * median([*cmd, "validate", str(one)], args.runs)
        print(f"\n{'median of ' + str(args.runs) + ' runs':<48}{'ms':>20}")
        print(f"{'strategy --help':<48}{help_ms:>20.0f}")
        print(f"{'strategy validate ONE_FILE':<48}{one_ms:>20.0f}")

        print("\ntargets:")
        print(
            f"  >= {TARGET_FILES_PER_SECOND} files/s: {ours_rate:.0f} -> "
            f"{verdict(ours_rate >= TARGET_FILES_PER_SECOND)}"
        )
        if theirs_rate is not None:
            print(
                f"  faster than check-jsonschema: {ours_rate:.0f} vs {theirs_rate:.0f} files/s "
                f"-> {verdict(ours_rate > theirs_rate)}"
            )
        print(
            f"  --help < {TARGET_STARTUP_MS} ms: {help_ms:.0f} ms -> "
            f"{verdict(help_ms < TARGET_STARTUP_MS)}"
        )
        print(
            f"  one file < {TARGET_STARTUP_MS} ms: {one_ms:.0f} ms -> "
            f"{verdict(one_ms < TARGET_STARTUP_MS)}"
        )


if __name__ == "__main__":
    main()
