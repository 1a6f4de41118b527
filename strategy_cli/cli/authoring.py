"""Authoring helpers: `strategy schema`, `strategy init` and `strategy rules`."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ExitCode, UsageError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "Execution strategy file"
SCHEMA_FILE = "strategy.schema.json"
STARTER = "starter.yaml"
_SLUG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_NAME_TOKEN = "__NAME__"
_SCHEMA_TOKEN = "__SCHEMA__"
# Attributes matching the starter's instanceValidation, for the suggested simulation.
_TRY_ATTRIBUTES = """'{"accountId": "acc-1", "email": "ana@example.com"}'"""


class RulesFormat(StrEnum):
    text = "text"
    json = "json"


# --- core helpers (no typer, no rich) ---------------------------------------------------------


def schema_document() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a strategy file, generated from the pydantic models."""
    from ..core.models import StrategyFile
    from ..core.schema_docs import documented

    generated = documented(StrategyFile.model_json_schema(by_alias=True, mode="validation"))
    generated.pop("title", None)
    definitions = generated.pop("$defs", {})
    generated.pop("additionalProperties", None)
    # Unknown keys are errors at every level (the models forbid them); definitions go last.
    return {
        "$schema": SCHEMA_DIALECT,
        "title": SCHEMA_TITLE,
        **generated,
        "additionalProperties": False,
        "$defs": definitions,
    }


def schema_text() -> str:
    """The schema as written by `strategy schema` (and committed as docs/strategy.schema.json)."""
    import json

    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


def starter_text(name: str, schema_ref: str = SCHEMA_FILE) -> str:
    """The starter strategy of `strategy init`, named `name`."""
    from importlib.resources import files

    template = files("strategy_cli").joinpath("templates", STARTER).read_text(encoding="utf-8")
    return template.replace(_SCHEMA_TOKEN, schema_ref).replace(_NAME_TOKEN, _yaml_scalar(name))


def _yaml_scalar(value: str) -> str:
    """`value` as a YAML string scalar, quoted only when plain YAML would read something else."""
    import json

    import yaml

    try:
        plain_ok = yaml.safe_load(value) == value
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok else json.dumps(value)


def rules_table() -> list[dict[str, str]]:
    """Every lint rule as {"rule", "severity", "group", "summary"}, in registry order."""
    from ..core.rules_registry import RULES

    return [
        {"rule": r.id, "severity": r.severity, "group": r.group, "summary": r.summary}
        for r in RULES.values()
    ]


# --- commands ---------------------------------------------------------------------------------


def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the schema to this file instead of stdout."),
    ] = None,
) -> int:
    """Print the JSON Schema of a strategy file.

    JSON Schema draft 2020-12, for editors and other tools. Point an editor at it with a first line `# yaml-language-server: $schema=PATH`.

    Example: strategy schema --output docs/strategy.schema.json
    """
    text = schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        from ..adapters.atomic import write_atomic
        from .console import err, shown

        write_atomic(output, text)
        err().print(shown(f"wrote {output}"), soft_wrap=True)
    return ExitCode.OK


def init(
    name: Annotated[
        str, typer.Argument(help="Strategy name: letters, digits, - and _ (e.g. loan-reminders).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default NAME.yaml); - for stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> int:
    """Write a commented starter strategy.

    The file passes `strategy validate` as written.

    \b
    Example: strategy init loan-reminders \\
               --output strategies/loan-reminders.yaml
    """
    if not _SLUG.fullmatch(name):
        raise UsageError(f"invalid name '{name}': use letters, digits, - and _")
    if output is not None and str(output) == "-":
        typer.echo(starter_text(name), nl=False)
        return ExitCode.OK
    target = output or Path(f"{name}.yaml")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (pass --force to overwrite it)")
    from ..adapters.atomic import write_atomic

    write_atomic(target, starter_text(name), replace=force)
    _print_next_steps(target)
    return ExitCode.OK


def _print_next_steps(target: Path) -> None:
    from shlex import quote

    from .console import line, out

    file, schema_file = quote(str(target)), quote(str(target.parent / SCHEMA_FILE))
    steps = [
        ("check it (it starts clean)", f"strategy validate {file}"),
        (
            "see its events on a virtual clock",
            f"strategy simulate {file} --cycles 3 --db :memory: --attributes {_TRY_ATTRIBUTES}",
        ),
        ("completion and checks in your editor", f"strategy schema --output {schema_file}"),
        ("what validate checks", "strategy rules"),
    ]
    console = out()
    console.print(line(("wrote", "green"), " ", target), soft_wrap=True)
    console.print("next steps:")
    for why, command in steps:
        console.print(line("  ", (f"# {why}", "dim")))
        console.print(line("  ", command), soft_wrap=True)


def rules(
    format: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RulesFormat.text,
) -> int:
    """List every lint rule.

    Each with its default severity, group and summary. Severities can be changed per project in [tool.strategy.rules]; see docs/rules.md.

    Example: strategy rules --format json
    """
    table = rules_table()
    if format is RulesFormat.json:
        from .console import write_json

        write_json(table)
    else:
        _print_rules(table)
    return ExitCode.OK


def _print_rules(table: list[dict[str, str]]) -> None:
    from rich.table import Table

    from .console import out, shown

    grid = Table(box=None, pad_edge=False, header_style="bold")
    grid.add_column("Rule", no_wrap=True)
    grid.add_column("Severity", no_wrap=True)
    grid.add_column("Group", no_wrap=True)
    grid.add_column("Summary")
    for row in table:
        colour = "red" if row["severity"] == "error" else "yellow"
        severity = shown(row["severity"], colour)
        grid.add_row(shown(row["rule"]), severity, shown(row["group"]), shown(row["summary"]))
    out().print(grid)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
    app.command("init")(init)
    app.command("rules")(rules)
