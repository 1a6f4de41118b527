"""Callback names that nothing could check (no callback modules configured) get one note per
run, on stderr (in `notes` with --format json), never a finding per reference or a changed exit
code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clikit import run_main

ROOT = Path(__file__).resolve().parent.parent
ONBOARDING = ROOT / "sample-strategies" / "onboarding.yaml"  # names three callbacks


def test_one_note_per_run_when_no_callback_modules_are_configured(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        shutil.copy(ONBOARDING, tmp_path / name)
    result = run_main("validate", str(tmp_path), cwd=tmp_path)
    assert result.code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: 6 callback name(s) in 2 file(s) not checked: no callback modules are configured "
        '(list them in `callbacks = ["module"]` under [tool.strategy] in pyproject.toml or '
        ".strategy.toml; see docs/callbacks.md)"
    ]
    as_json = run_main("validate", str(tmp_path), "--format", "json", cwd=tmp_path)
    assert as_json.code == 0
    assert json.loads(as_json.stdout)["notes"] == [notes[0].removeprefix("note: ")]
    assert "note:" not in as_json.stderr


def test_no_note_once_callback_modules_are_configured(tmp_path: Path) -> None:
    shutil.copy(ONBOARDING, tmp_path / "a.yaml")
    shutil.copy(ROOT / "sample-strategies" / "onboarding_callbacks.py", tmp_path)
    (tmp_path / ".strategy.toml").write_text('callbacks = ["onboarding_callbacks"]\n')
    result = run_main("validate", str(tmp_path / "a.yaml"), "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["notes"] == []
    assert "note:" not in result.stderr


def test_no_note_for_a_strategy_without_callbacks(tmp_path: Path) -> None:
    shutil.copy(ROOT / "sample-strategies" / "subscription.yaml", tmp_path / "s.yaml")
    result = run_main("validate", str(tmp_path / "s.yaml"), cwd=tmp_path)
    assert "note:" not in result.stderr
