"""Every file the tool writes is written atomically: a failure midway leaves the old file whole.

The commands run through the real `main()`, so exit codes and stderr are what a user sees.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest
from conftest import fill_device

from strategy_cli.adapters import atomic
from strategy_cli.cli import app as app_module
from strategy_cli.cli.authoring import schema_text

OLD = "the old file, which must survive\n"


def main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    monkeypatch.setattr(sys, "argv", ["strategy", *args])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def untouched(target: Path, text: str = OLD) -> bool:
    """The old file whole, and no temporary file left beside it."""
    return target.read_text(encoding="utf-8") == text and leftovers(target.parent) == []


@pytest.mark.parametrize("command", [["schema", "-o"], ["init", "flow", "--force", "-o"]])
def test_a_failed_write_leaves_the_old_file_intact(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    target = tmp_path / "out.txt"
    target.write_text(OLD, encoding="utf-8")

    def broken_fsync(fd: int) -> None:  # the data was written, the flush to disk fails
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    code, _, err = main(monkeypatch, capsys, *command, str(target))
    assert code == 1
    assert err.strip() == f"error: {target}: cannot write: Input/output error"
    assert untouched(target)


def test_ctrl_c_midway_leaves_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text(OLD, encoding="utf-8")

    class Interrupting(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, Interrupting("new"))
    assert untouched(target)


def test_a_write_replaces_the_file_and_keeps_its_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "schema.json"
    target.write_text(OLD, encoding="utf-8")
    target.chmod(0o640)
    code, _, err = main(monkeypatch, capsys, "schema", "-o", str(target))
    assert code == 0, err
    assert target.read_text(encoding="utf-8") == schema_text()
    assert target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        atomic.write_atomic(tmp_path / "sub" / "new.yaml", "x: 1\n")
    finally:
        os.umask(old_umask)
    assert (tmp_path / "sub" / "new.yaml").stat().st_mode & 0o777 == 0o644


def test_no_overwrite_mode_never_replaces_a_file_created_meanwhile(tmp_path: Path) -> None:
    target = tmp_path / "flow.yaml"
    target.write_text(OLD, encoding="utf-8")
    with pytest.raises(atomic.StrategyError, match="already exists; nothing was written"):
        atomic.write_atomic(target, "new\n", replace=False)
    assert untouched(target)


def test_a_full_disk_says_so_and_keeps_the_old_file(
    small_tmpfs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = small_tmpfs / "schema.json"
    target.write_text("old\n", encoding="utf-8")
    fill_device(small_tmpfs)
    code, _, err = main(monkeypatch, capsys, "schema", "-o", str(target))
    assert code == 1
    assert err.strip() == f"error: {target}: cannot write: disk is full"
    assert untouched(target, "old\n")
