"""Regenerate docs/cli.md from the app's own --help: `python scripts/gen_cli_docs.py [--check]`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"


def commands() -> list[tuple[str, ...]]:
    import typer

    from strategy_cli.cli import app as app_module

    app_module._register()
    root = typer.main.get_command(app_module.app)
    out: list[tuple[str, ...]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        out.append(path)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(root, ())
    return out


def help_text(path: tuple[str, ...]) -> str:
    from typer.testing import CliRunner

    from strategy_cli.cli.app import app

    env = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, [*path, "--help"], env=env, prog_name="strategy")
    return result.output.rstrip() + "\n"


def render() -> str:
    os.environ["COLUMNS"] = "100"
    parts = [
        "# strategy: command reference\n",
        "Generated from the app's own `--help` by `python scripts/gen_cli_docs.py`; "
        "a test fails when it is out of date.\n",
    ]
    for path in commands():
        title = " ".join(("strategy", *path))
        parts.append(f"\n## `{title}`\n\n```text\n{help_text(path)}```\n")
    return "".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else None
    if "--check" in argv:
        if current != text:
            print("docs/cli.md is out of date; run: python scripts/gen_cli_docs.py")
            return 1
        return 0
    from strategy_cli.adapters.atomic import write_atomic

    write_atomic(DOC, text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
