from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import RecordingServer, RunKit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "sample-strategies"
# Attributes that satisfy the loan-collection sample's instanceValidation.
LOAN_ATTRS = {
    "loanId": "L1",
    "customerEmail": "a@b.c",
    "firstDueDate": "2026-01-31T00:00:00+01:00",
    "amountCents": 1000,
}


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may write the user's real store or read their config."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("STRATEGY_DB", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


# --- `strategy run` tests: a counting HTTP server on 127.0.0.1, a store in the test's folder ---


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as s:
        yield s


@pytest.fixture
def kit(tmp_path: Path) -> RunKit:
    return RunKit(tmp_path)
