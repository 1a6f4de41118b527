"""The store's location is resolved in one place, the same way for every command and for shell
completion: --db, else $STRATEGY_DB, else $XDG_DATA_HOME/strategy/store.db, else
~/.local/share/strategy/store.db."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clikit import run_main
from conftest import SAMPLES

from strategy_cli import complete
from strategy_cli.adapters.store_location import store_location

LOAN = SAMPLES / "loan-collection.yaml"

# (variables set, None = unset; where the store is then, relative to the test's folder)
CASES = {
    "STRATEGY_DB first": ({"STRATEGY_DB": "env/mine.db", "XDG_DATA_HOME": "xdg"}, "env/mine.db"),
    "then XDG_DATA_HOME": ({"STRATEGY_DB": None, "XDG_DATA_HOME": "xdg"}, "xdg/strategy/store.db"),
    "then the home folder": (
        {"STRATEGY_DB": None, "XDG_DATA_HOME": None},
        "home/.local/share/strategy/store.db",
    ),
    "an empty variable is unset": (
        {"STRATEGY_DB": "", "XDG_DATA_HOME": ""},
        "home/.local/share/strategy/store.db",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_every_command_and_completion_use_the_same_store(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables, where = CASES[case]
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name, value in variables.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(tmp_path / value) if value else "")
    expected = tmp_path / where
    assert store_location() == str(expected)

    doctor = json.loads(run_main("doctor", "--format", "json").stdout)
    assert doctor["store"]["path"] == str(expected)  # not created yet
    assert run_main("apply", str(LOAN)).code == 0  # a command that writes
    assert expected.is_file()
    listed = json.loads(run_main("list", "--format", "json").stdout)  # one that reads
    assert [r["name"] for r in listed] == ["loan-collection"]
    assert json.loads(run_main("doctor", "--format", "json").stdout)["store"]["path"] == str(
        expected
    )
    assert complete.stored("strategy", "loan", None) == ["loan-collection"]


def test_db_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATEGY_DB", str(tmp_path / "env.db"))
    given = tmp_path / "given.db"
    assert store_location(str(given)) == str(given)
    assert run_main("apply", str(LOAN), "--db", str(given)).code == 0
    assert given.is_file() and not (tmp_path / "env.db").exists()
    assert complete.stored("strategy", "", str(given)) == ["loan-collection"]
    assert complete.stored("strategy", "", None) == []  # $STRATEGY_DB's store does not exist
