"""What CI lints: named paths always, hidden ones below them counted, unreadable ones reported;
files over the size limit reported without being parsed; long source lines cut around the caret.

Unreadable files are made for real (chmod 000) and linted by an unprivileged user: as root
(tests often are) through `setpriv` as nobody, else directly. Where neither can work, those
tests are skipped and the in-process ones (a failing os.scandir / open) still run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st
from test_validate_cli import SAMPLE_TEXT, UNKNOWN_TASK, run, write

from strategy_cli.cli.render_findings import SOURCE_WINDOW, source_window
from strategy_cli.core.limits import MAX_FILE_BYTES, parse_size

NOBODY = 65534


# ---- hidden paths ------------------------------------------------------------------------------


def test_a_named_hidden_folder_is_linted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".ci" / "strategies" / "x.yaml", UNKNOWN_TASK)
    monkeypatch.chdir(tmp_path)
    result = run(".ci/strategies", "--format", "json")
    assert result.code == 1
    assert result.json()["summary"]["files"] == 1
    assert {f["rule"] for f in result.json()["findings"]} == {"unknown-task"}
    assert run(".ci", "--format", "json").json()["summary"]["files"] == 1


def test_a_named_hidden_file_is_linted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".hidden.yaml", UNKNOWN_TASK)
    monkeypatch.chdir(tmp_path)
    result = run(".hidden.yaml")
    assert result.code == 1
    assert "[unknown-task]" in result.out


def test_hidden_entries_below_a_named_folder_are_skipped_and_counted(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", SAMPLE_TEXT)
    write(tmp_path / ".git" / "x.yaml", UNKNOWN_TASK)
    write(tmp_path / "sub" / ".drafts" / "y.yaml", UNKNOWN_TASK)
    write(tmp_path / "sub" / ".z.json", "{}")
    write(tmp_path / "sub" / ".notes", "not a strategy")  # would not be linted anyway
    text = run(str(tmp_path))
    assert text.code == 0
    assert (
        "ok: 1 file(s), 0 error(s), 0 warning(s); skipped 2 hidden folders and 1 hidden file"
        in (text.out)
    )
    doc = run(str(tmp_path), "--format", "json").json()
    assert doc["summary"] == {"files": 1, "errors": 0, "warnings": 0, "skippedHidden": 3}
    one = run(str(tmp_path / "sub" / ".drafts"), "--format", "json").json()["summary"]
    assert (one["files"], one["skippedHidden"]) == (1, 0)


# ---- unreadable paths --------------------------------------------------------------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="strategy-unreadable-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755)
        shutil.rmtree(path)


def as_unprivileged(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "strategy_cli", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot test real permissions")
        command = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    env = {**os.environ, "XDG_DATA_HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd), "NO_COLOR": "1"}
    env["PYTHONPATH"] = str(ROOT)  # the source tree, wherever the package is installed
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if "Permission denied" in proc.stderr and "python" in proc.stderr.lower():
        pytest.skip(f"nobody cannot run this Python: {proc.stderr.strip()}")
    return proc


def test_unreadable_files_and_folders_are_errors(shared_dir: Path) -> None:
    write(shared_dir / "s" / "a.yaml", SAMPLE_TEXT)
    locked_file = write(shared_dir / "s" / "b.yaml", SAMPLE_TEXT)
    locked_dir = write(shared_dir / "s" / "locked" / "c.yaml", UNKNOWN_TASK).parent
    for p in shared_dir.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    locked_file.chmod(0)
    locked_dir.chmod(0)
    proc = as_unprivileged(["validate", "s", "--format", "json"], shared_dir)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    problems = {(f["file"], f["rule"], f["line"], f["column"]) for f in doc["findings"]}
    assert problems == {
        ("s/b.yaml", "file-unreadable", 1, 1),
        ("s/locked", "file-unreadable", 1, 1),
    }
    assert all("Permission denied" in f["message"] for f in doc["findings"])
    text = as_unprivileged(["validate", "s"], shared_dir)
    assert text.returncode == 1
    assert "s/locked:1:1: error [file-unreadable] cannot list the folder" in text.stdout
    named = as_unprivileged(["validate", "s/b.yaml"], shared_dir)
    assert named.returncode == 1
    assert "s/b.yaml:1:1: error [file-unreadable]" in named.stdout


def test_a_folder_that_cannot_be_listed_is_an_error_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.yaml", SAMPLE_TEXT)
    locked = write(tmp_path / "locked" / "c.yaml", UNKNOWN_TASK).parent
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run(str(tmp_path), "--format", "json")
    assert result.code == 1
    [problem] = result.json()["findings"]
    assert (problem["file"], problem["rule"]) == (str(locked), "file-unreadable")
    # a named folder that cannot be listed: the same error, not "no strategy files found"
    alone = run(str(locked))
    assert alone.code == 1
    assert f"{locked}:1:1: error [file-unreadable]" in alone.out


# ---- file size ---------------------------------------------------------------------------------


def test_a_file_over_the_default_limit_is_reported_without_being_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strategy_cli.adapters import yamlsource

    big = write(tmp_path / "big.yaml", b"name: x\n" + b"#" * MAX_FILE_BYTES)
    small = write(tmp_path / "small.yaml", UNKNOWN_TASK)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over the limit was parsed")

    monkeypatch.setattr(yamlsource, "load_text", never)
    monkeypatch.setattr(yamlsource, "load_bytes", never)
    result = run(str(big), "--format", "json")
    assert result.code == 1
    [finding] = result.json()["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("file-too-large", 1, 1)
    assert "5 MiB" in finding["message"] and "--max-file-size" in finding["hint"]
    monkeypatch.undo()
    both = run(str(big), str(small), "--format", "json").json()
    assert sorted(f["rule"] for f in both["findings"]) == ["file-too-large", "unknown-task"]


@pytest.mark.parametrize(
    ("limit", "too_large"),
    [("1k", True), ("1KB", True), ("500k", False), ("5MB", False), (str(len(SAMPLE_TEXT)), False)],
)
def test_max_file_size_flag(tmp_path: Path, limit: str, too_large: bool) -> None:
    path = write(tmp_path / "s.yaml", SAMPLE_TEXT)
    result = run(str(path), "--max-file-size", limit)
    assert result.code == (1 if too_large else 0), result
    assert ("[file-too-large]" in result.out) is too_large


def test_max_file_size_applies_to_stdin() -> None:
    result = run("-", "--max-file-size", "1k", stdin=SAMPLE_TEXT.encode())
    assert result.code == 1
    assert "<stdin>:1:1: error [file-too-large]" in result.out


@pytest.mark.parametrize("value", ["abc", "0", "5 TB", "1.5MB", ""])
def test_a_bad_max_file_size_is_a_usage_error(value: str) -> None:
    result = run(str(ROOT / "sample-strategies"), "--max-file-size", value)
    assert result.code == 2
    assert "--max-file-size" in result.err
    assert result.out == ""


@pytest.mark.parametrize("command", [["apply"], ["simulate"], ["instance", "create"]])
def test_commands_that_load_strategy_files_take_the_flag(
    tmp_path: Path, command: list[str]
) -> None:
    path = write(tmp_path / "s.yaml", SAMPLE_TEXT)
    args = [*command, str(path), "--db", ":memory:", "--max-file-size", "1k"]
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{path}:1:1: the file is" in proc.stderr and "[file-too-large]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_other_commands_apply_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from strategy_cli.adapters.strategies import InvalidStrategy, load_strategy_file

    path = write(tmp_path / "s.yaml", SAMPLE_TEXT)
    with pytest.raises(InvalidStrategy, match=r"file-too-large"):
        load_strategy_file(path, max_bytes=100)
    assert load_strategy_file(path).settings


def test_parse_size() -> None:
    assert parse_size("5MB") == parse_size("5MiB") == parse_size("5m") == 5 * 1024 * 1024
    assert parse_size("500k") == 500 * 1024
    assert parse_size("123") == parse_size("123b") == 123
    for bad in ("", "k", "-1", "1e6", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)


# ---- long lines --------------------------------------------------------------------------------


def test_a_long_line_is_cut_around_the_caret(tmp_path: Path) -> None:
    data = yaml.safe_load(SAMPLE_TEXT)
    data["description"] = "x" * 200_000
    data["settings"] = {"unknownKey": 1, **data["settings"]}  # long text on both sides
    text = json.dumps(data, separators=(",", ":"))
    path = write(tmp_path / "one-line.json", text)
    result = run(str(path))
    assert result.code == 1
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) < SOURCE_WINDOW + 60  # header, source, caret
    source_line = next(line for line in lines if '"unknownKey"' in line)
    caret_line = lines[lines.index(source_line) + 1]
    assert source_line.startswith("  …") and source_line.endswith("…")
    assert source_line[caret_line.index("^") :].startswith('"unknownKey"')


@given(
    st.text(alphabet="ab\t é", max_size=400),
    st.integers(min_value=1, max_value=450),
    st.integers(min_value=10, max_value=200),
)
def test_source_window_keeps_the_caret_on_its_character(line: str, column: int, width: int) -> None:
    shown, caret = source_window(line, column, width)
    assert len(shown) <= width * 4 + 2  # tabs expand to at most 4 columns
    assert 0 <= caret <= width * 4 + 1
    if column <= len(line) and not line[column - 1].isspace():
        assert shown[caret] == line[column - 1]
