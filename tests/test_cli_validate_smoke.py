from __future__ import annotations

import json
import subprocess
import sys

from conftest import SAMPLES


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strategy_cli", *args], input=stdin, capture_output=True, text=True
    )


def test_samples_are_clean() -> None:
    proc = run("validate", str(SAMPLES), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["errors"] == 0
    assert doc["summary"]["files"] >= 1


def test_missing_path_is_usage_error() -> None:
    proc = run("validate", "no/such/file.yaml")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr
