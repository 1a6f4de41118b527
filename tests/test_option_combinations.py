"""Options that a mode does not use are usage errors (exit 2) naming them, never ignored: a user
who wrote `--start` must not believe it applied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOAN = ROOT / "sample-strategies" / "loan-collection.yaml"


def strategy(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strategy_cli", *args], capture_output=True, text=True, input=stdin
    )


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    path = tmp_path / "loans.jsonl"
    path.write_text(
        '{"attributes": {"loanId": "L1", "customerEmail": "a@example.com",'
        ' "firstDueDate": "2027-01-31T00:00:00Z", "amountCents": 100},'
        ' "start": "2027-01-01T00:00:00Z"}\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "extra,named",
    [
        (["--start", "2027-01-01T00:00:00Z"], "--start"),
        (["--attributes", "{}"], "--attributes"),
        (["--format", "ics"], "--format ics"),
        (["--format", "table"], "--format table"),
    ],
)
def test_instances_file_refuses_what_it_does_not_use(
    portfolio: Path, extra: list[str], named: str
) -> None:
    proc = strategy(
        "simulate", str(LOAN), "--instances-file", str(portfolio), "--db", ":memory:", *extra
    )
    assert proc.returncode == 2, proc.stderr
    assert f"--instances-file does not use {named}" in proc.stderr
    assert proc.stdout == ""


def test_instances_file_with_the_options_it_uses_works(portfolio: Path) -> None:
    proc = strategy(
        "simulate", str(LOAN), "--instances-file", str(portfolio), "--db", ":memory:",
        "--format", "json", "--cycles", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_stdin_filename_needs_stdin() -> None:
    proc = strategy("validate", str(LOAN), "--stdin-filename", "x.yaml")
    assert proc.returncode == 2
    assert "does not use --stdin-filename" in proc.stderr
    text = LOAN.read_text(encoding="utf-8")
    assert strategy("validate", "-", "--stdin-filename", "x.yaml", stdin=text).returncode == 0


def test_run_refuses_what_its_mode_does_not_use(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    proc = strategy("run", "--dry-run", "--watch", "--db", db)
    assert proc.returncode == 2 and "--dry-run does not use --watch" in proc.stderr
    proc = strategy("run", "--interval", "2", "--db", db)
    assert proc.returncode == 2 and "run without --watch does not use --interval" in proc.stderr
    assert strategy("run", "--dry-run", "--db", db).returncode == 0
