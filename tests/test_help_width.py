"""Every command's --help at 80 columns, as a user's terminal shows it: nothing cut, nothing too
wide, and every example copies and pastes as written."""

from __future__ import annotations

import functools
import inspect
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from clikit import run_main

# typer carries its own copy of click: the tree's classes are typer's, so the tests look at
# what a command has (commands, param_type_name) rather than at click's classes.

WIDTH = 80
ROOT = Path(__file__).resolve().parent.parent


def _tree() -> list[tuple[tuple[str, ...], Any]]:
    """Every command path (the walk of scripts/gen_cli_docs.py) with its command object."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import gen_cli_docs

    from strategy_cli.cli import app as app_module

    paths = gen_cli_docs.commands()  # registers every command module
    root = typer.main.get_command(app_module.app)
    return [(path, functools.reduce(lambda c, n: c.commands[n], path, root)) for path in paths]


TREE = _tree()


def _help(path: tuple[str, ...]) -> str:
    result = run_main(*path, "--help", env={"COLUMNS": str(WIDTH)})
    assert result.code == 0, result.stderr
    return result.stdout


def _examples(text: str) -> list[list[str]]:
    """Each `Example:` in a help text with its ` \\` continuation lines, as printed."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.strip().startswith("Example:"):
            block = [line]
            while block[-1].endswith("\\") and i + len(block) < len(lines):
                block.append(lines[i + len(block)])
            found.append(block)
    return found


def _command_line(block: list[str]) -> str:
    joined = " ".join(part.strip().removesuffix("\\").strip() for part in block)
    return joined.removeprefix("Example:").strip()


def _commands_section(text: str) -> list[str]:
    _, _, rest = text.partition("\nCommands:\n")
    return [line for line in rest.splitlines() if line.strip()]


PATHS = [pytest.param(path, id=" ".join(path) or "strategy") for path, _ in TREE]


@pytest.mark.parametrize("path", PATHS)
def test_help_fits_80_columns(path: tuple[str, ...]) -> None:
    cmd = dict(TREE)[path]
    text = _help(path)
    wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not wide, f"lines wider than {WIDTH}: {wide}"
    cut = [line for line in _commands_section(text) if line.rstrip().endswith("...")]
    assert not cut, f"command summaries cut short: {cut}"
    if hasattr(cmd, "commands"):
        shown = [line.split()[0] for line in _commands_section(text) if line.startswith("  ")]
        assert set(shown) == set(cmd.commands), "a summary wrapped onto a second line"


@pytest.mark.parametrize("path", PATHS)
def test_examples_print_as_written_and_parse(path: tuple[str, ...]) -> None:
    cmd = dict(TREE)[path]
    text = _help(path)
    printed = _examples(text)
    written = _examples(inspect.cleandoc(cmd.help or ""))
    # Printed exactly as written (click's `\b` block): a rewrapped example would split a token
    # or lose its continuation.
    assert [[s.strip() for s in b] for b in printed] == [[s.strip() for s in b] for b in written]
    for block in printed:
        after = text.splitlines()[text.splitlines().index(block[-1]) + 1 :]
        assert not after or not after[0].strip(), f"example wrapped onto another line: {block}"
        assert all(len(s.strip()) <= 76 for s in block), block
        _parses(_command_line(block), path)


def _parses(command: str, path: tuple[str, ...]) -> None:
    """The example is a complete command: its words name this command, and click accepts its
    options and arguments (unknown options, missing values and missing arguments fail)."""
    words = shlex.split(command)
    assert words[: 1 + len(path)] == ["strategy", *path], command
    root = dict(TREE)[()]
    ctx = root.make_context("strategy", [], resilient_parsing=True)
    cmd = root
    for name in path:
        cmd = cmd.get_command(ctx, name)
        ctx = cmd.context_class(cmd, parent=ctx, info_name=name)  # not resilient: errors raise
    parser = cmd.make_parser(ctx)
    values, extra, _ = parser.parse_args(words[1 + len(path) :])
    assert not extra, f"{command}: unexpected words {extra}"
    for param in cmd.params:
        if param.param_type_name == "argument" and param.required:
            assert values.get(param.name) not in (None, ()), f"{command}: no {param.name}"
