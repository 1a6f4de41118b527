"""The code base stays lint-clean, formatted and type-checked (as CI would insist)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT)


def test_ruff_check_and_format() -> None:
    pytest.importorskip("ruff")
    check = _run("ruff", "check", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_on_the_package() -> None:
    pytest.importorskip("mypy")
    typed = _run("mypy", "strategy_cli", "--ignore-missing-imports", "--no-error-summary")
    assert typed.returncode == 0, typed.stdout + typed.stderr
