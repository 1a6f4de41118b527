"""Completion scripts in real shells, and generated files kept up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPTS = ROOT / "completions"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real store with one instance, made with the real commands."""
    db = tmp_path_factory.mktemp("completion") / "store.db"
    attrs = '{"loanId":"L1","customerEmail":"a@b.c","firstDueDate":"2026-01-31T00:00:00+01:00","amountCents":1}'
    sample = ROOT / "sample-strategies" / "loan-collection.yaml"
    cmd = [
        sys.executable,
        "-m",
        "strategy_cli",
        "instance",
        "create",
        str(sample),
        "-a",
        attrs,
        "--db",
        str(db),
    ]
    sid = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    return db, sid


def _env(db: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "STRATEGY_DB": str(db), "PATH": bindir + os.pathsep + os.environ["PATH"]}


def _need(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it)")
    return path


def bash_complete(line: list[str], db: Path) -> list[str]:
    words = " ".join(f"'{w}'" for w in line)
    script = (
        f"source {SCRIPTS / 'strategy.bash'}; COMP_WORDS=({words}); COMP_CWORD={len(line) - 1}; "
        '_strategy_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(
        [_need("bash"), "-c", script], capture_output=True, text=True, env=_env(db), cwd=ROOT
    )
    return out.stdout.split()


def zsh_complete(line: list[str], db: Path) -> list[str]:
    # compadd and _files are zsh's completion builtins; outside the line editor they are stubbed to
    # print what the script hands them. The script's own logic runs unchanged.
    words = " ".join(f"'{w}'" for w in line)
    script = (
        'compadd() { local a; for a in "${(@P)${@[-1]}}"; do print -r -- $a; done }; '
        "_files() { print -r -- __FILES__ }; compdef() { : }; "
        f"source {SCRIPTS / 'strategy.zsh'}; words=({words}); CURRENT={len(line)}; _strategy"
    )
    out = subprocess.run(
        [_need("zsh"), "-f", "-c", script], capture_output=True, text=True, env=_env(db), cwd=ROOT
    )
    return out.stdout.split()


def fish_complete(line: str, db: Path) -> list[str]:
    script = f"source {SCRIPTS / 'strategy.fish'}; complete -C '{line}'"
    out = subprocess.run(
        [_need("fish"), "-c", script], capture_output=True, text=True, env=_env(db), cwd=ROOT
    )
    return [row.split("\t")[0] for row in out.stdout.splitlines()]


def test_bash(store: tuple[Path, str]) -> None:
    db, sid = store
    assert bash_complete(["strategy", "inst"], db) == ["instance"]
    assert sid in bash_complete(["strategy", "instance", "tasks", ""], db)
    assert bash_complete(["strategy", "simulate", "--format", ""], db) == [
        "timeline",
        "table",
        "json",
        "ics",
    ]
    assert "sample-strategies" in bash_complete(["strategy", "validate", "sample-s"], db)


def test_zsh(store: tuple[Path, str]) -> None:
    db, sid = store
    assert zsh_complete(["strategy", "inst"], db) == ["instance"]
    assert sid in zsh_complete(["strategy", "instance", "tasks", ""], db)
    assert zsh_complete(["strategy", "simulate", "--format", ""], db) == [
        "timeline",
        "table",
        "json",
        "ics",
    ]
    assert "__FILES__" in zsh_complete(["strategy", "validate", ""], db)


def test_fish(store: tuple[Path, str]) -> None:
    db, sid = store
    assert fish_complete("strategy inst", db) == ["instance"]
    assert sid in fish_complete("strategy instance tasks ", db)
    assert sorted(fish_complete("strategy simulate --format ", db)) == [
        "ics",
        "json",
        "table",
        "timeline",
    ]
    assert any(
        c.startswith("sample-strategies") for c in fish_complete("strategy validate sample-s", db)
    )


def test_prefix_of_sid_completes(store: tuple[Path, str]) -> None:
    db, sid = store
    assert bash_complete(["strategy", "instance", "show", sid[:5]], db) == [sid]
    assert bash_complete(["strategy", "instance", "show", "zzzz"], db) == []


def test_broken_store_completes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    assert bash_complete(["strategy", "instance", "tasks", ""], bad) == []


def test_generated_files_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_completions.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_reference_is_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_command_has_help_and_an_example() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import gen_cli_docs

    missing = []
    for path in gen_cli_docs.commands():
        text = gen_cli_docs.help_text(path)
        leaf = path and "Commands:" not in text
        if not path:
            continue
        if len(text.split("\n\n")) < 2 or (leaf and "Example:" not in text):
            missing.append(" ".join(path))
    assert not missing, f"commands without help text or an example: {missing}"
