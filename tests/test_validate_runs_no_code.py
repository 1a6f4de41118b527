"""`validate` (and `rules`, `schema`, `init`, completion) never runs code from the tree it reads.

A pull request can add `callbacks = ["evil"]` and `evil.py`: linting it must not import it. The
callback names are read from the source (core/callbacks.py); here every module writes a marker
file and raises when imported, so any import shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES
from hypothesis import given
from hypothesis import strategies as st
from test_validate_cli import run, write

from strategy_cli.core.callbacks import Uncheckable, names_in_source

EVIL = """\
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("ran")
raise SystemExit("evil ran")


def should_log(ctx):
    return True
"""
# A strategy naming the callback `shuold_log` (a typo of should_log) in an ifCallback.
STRATEGY = (
    (SAMPLES.parent / "tests" / "lint" / "fixtures" / "unknown-callback" / "bad.yaml")
    .read_text(encoding="utf-8")
    .replace("reminders.shuold_log", "shuold_log")
)


def project(tmp_path: Path, module_source: str, module: str = "evil") -> Path:
    """A project whose configuration names `module`, with a strategy that uses a callback."""
    write(tmp_path / ".strategy.toml", f'callbacks = ["{module}"]\n')
    if module_source:
        write(tmp_path / (module.replace(".", "/") + ".py"), module_source)
    return write(tmp_path / "strategies" / "remind.yaml", STRATEGY)


def assert_not_run(tmp_path: Path) -> None:
    assert not list(tmp_path.rglob("IMPORTED")), "the callback module was imported"
    assert "evil" not in sys.modules


def lint(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    monkeypatch.chdir(tmp_path)
    result = run(str(path), "--format", "json")
    assert_not_run(tmp_path)
    assert result.code == 0, result  # callback findings are warnings
    return [f for f in result.json()["findings"] if "callback" in str(f["rule"])]


def test_unknown_callback_is_found_by_reading_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = lint(project(tmp_path, EVIL), tmp_path, monkeypatch)
    assert [(f["rule"], f["hint"]) for f in findings] == [
        ("unknown-callback", "did you mean 'should_log'?")
    ]
    assert "'shuold_log'" in str(findings[0]["message"])


def test_a_package_module_is_read_without_running_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "evil" / "__init__.py", EVIL)
    path = project(tmp_path, EVIL.replace("should_log", "shuold_log"), "evil.hooks")
    assert lint(path, tmp_path, monkeypatch) == []  # evil.hooks defines shuold_log


def test_text_output_names_the_unknown_callback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project(tmp_path, EVIL)
    monkeypatch.chdir(tmp_path)
    result = run(str(path))
    assert_not_run(tmp_path)
    assert "[unknown-callback]" in result.out
    assert "did you mean 'should_log'?" in result.out


@pytest.mark.parametrize(
    ("source", "why"),
    [
        (EVIL + "CALLBACKS = {n: should_log for n in ['shuold_log']}\n", "not a literal"),
        (EVIL + "CALLBACKS = dict(shuold_log=should_log)\n", "not a literal"),
        (EVIL + "CALLBACKS = {}\nCALLBACKS['shuold_log'] = should_log\n", "changed"),
        (EVIL + "globals()['shuold_log'] = should_log\n", "globals()"),
        (EVIL + "def broken(:\n", "cannot be parsed"),
        ("", "no source file"),
    ],
    ids=["comprehension", "call", "item-assignment", "globals", "syntax-error", "missing"],
)
def test_a_module_that_cannot_be_read_gets_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, why: str
) -> None:
    findings = lint(project(tmp_path, source), tmp_path, monkeypatch)
    assert len(findings) == 1, findings  # and shuold_log is not called unknown
    assert findings[0]["rule"] == "unchecked-callbacks"
    assert findings[0]["message"] == "callbacks of evil cannot be checked without running it"
    assert why in str(findings[0]["hint"])


def test_a_literal_callbacks_dict_and_a_py_path_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = EVIL + "CALLBACKS: dict = {'shuold_log': should_log}\n"
    path = project(tmp_path, source)
    write(tmp_path / ".strategy.toml", 'callbacks = ["./evil.py"]\n')
    assert lint(path, tmp_path, monkeypatch) == []


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "strategy_cli", "validate", "strategies"],
        ["-m", "strategy_cli", "validate", "-", "--stdin-filename", "strategies/remind.yaml"],
        ["-m", "strategy_cli", "rules"],
        ["-m", "strategy_cli", "schema"],
        ["-m", "strategy_cli", "init", "flow", "-o", "flow.yaml"],
        ["-m", "strategy_cli.complete", "2", "strategy", "validate", ""],
        ["-m", "strategy_cli.complete", "2", "strategy", "instance", "create", ""],
    ],
    ids=["validate", "validate-stdin", "rules", "schema", "init", "complete", "complete-create"],
)
def test_commands_that_only_read_never_import_callbacks(tmp_path: Path, args: list[str]) -> None:
    project(tmp_path, EVIL)
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        input=STRATEGY,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "IMPORTED").exists()


def test_run_does_import_them(tmp_path: Path) -> None:
    """The marker works: `run`, whose job is to execute the strategy, imports the module."""
    project(tmp_path, EVIL)
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "run", "--db", ":memory:", "--dry-run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
    )
    assert (tmp_path / "IMPORTED").exists(), proc.stderr


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "NO_COLOR": "1"}


# ---- the pure part: source text -> names, or "cannot be checked" -------------------------------


def test_names_in_source_reads_functions_classes_and_literal_callbacks() -> None:
    source = (
        "import os\nfrom x import imported\n"
        "def a(ctx): ...\nasync def b(ctx): ...\ndef _private(ctx): ...\nclass C: ...\n"
        "d = make()\nLIMIT = 3\nif os.name:\n    def e(ctx): ...\n"
        "try:\n    pass\nexcept ImportError:\n    def f(ctx): ...\n"
        "CALLBACKS = {'loan.approve': a, 'g': b}\n"
    )
    assert names_in_source(source) == {"a", "b", "C", "d", "e", "f", "loan.approve", "g"}


@given(st.text(max_size=300))
def test_names_in_source_never_fails_otherwise(source: str) -> None:
    try:
        names = names_in_source(source)
    except Uncheckable:
        return
    assert all(isinstance(n, str) and not n.startswith("_") for n in names)


@given(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), max_size=8))
def test_names_in_source_finds_every_public_def(names: list[str]) -> None:
    import keyword

    names = [n for n in names if not keyword.iskeyword(n)]
    source = "".join(f"def {n}(ctx):\n    return {i}\n" for i, n in enumerate(names))
    assert names_in_source(source) == set(names)
