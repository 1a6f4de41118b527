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


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real, small device: a 2 MB tmpfs (fill it with `fill_device`). Skipped where
    mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    import subprocess

    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_device(folder: Path) -> None:
    """Write a filler file in `folder` until its device has not one byte left."""
    import errno
    import os

    filler = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while os.write(filler, b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(filler)
