"""`apply` of a file whose own `version` differs from the number the store gives it says so in
one line (the store numbers versions itself); a matching or absent `version` says nothing."""

from __future__ import annotations

from pathlib import Path

from clikit import run_main

LOAN = Path(__file__).resolve().parent.parent / "sample-strategies" / "loan-collection.yaml"


def test_a_file_version_the_store_does_not_give_is_noted(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    three = tmp_path / "loan.yaml"
    three.write_text(LOAN.read_text().replace("version: 1\n", "version: 3\n", 1))
    result = run_main("apply", str(three), "--db", str(db))
    assert result.code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert f"{three} says version 3; the store numbered it version 1" in notes[0]


def test_a_matching_version_says_nothing(tmp_path: Path) -> None:
    result = run_main("apply", str(LOAN), "--db", str(tmp_path / "store.db"))
    assert result.code == 0, result.stderr
    assert "note:" not in result.stderr
