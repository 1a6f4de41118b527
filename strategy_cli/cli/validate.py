"""`strategy validate`: lint strategy files like a CI gate."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from ..core.findings import Finding
from ..errors import ExitCode, UsageError


class LintFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def validate(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Strategy files, folders (searched for *.yaml, *.yml, *.json) or - for stdin."
        ),
    ],
    format: Annotated[
        LintFormat | None,
        typer.Option(
            "--format", "-f", help="Output format (default text; github on GitHub Actions)."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")
    ] = False,
    stdin_filename: Annotated[
        str | None,
        typer.Option("--stdin-filename", help="Name to report for the file read from -."),
    ] = None,
) -> int:
    """Check strategy files: schema, references, step graphs, schedule, services and data.

    Every finding of every file is reported in one run, with file:line:col and a rule id.
    Exit code: 0 no errors, 1 errors (or warnings with --strict), 2 usage errors.

    Example: strategy validate sample-strategies/ --format json
    """
    from ..adapters.files import expand
    from ..adapters.lintrun import lint_files
    from . import render_findings as render
    from .common import refuse_unused
    from .console import write_json

    chosen = format or (
        LintFormat.github if os.environ.get("GITHUB_ACTIONS") == "true" else LintFormat.text
    )
    names = list(expand(paths))
    if not names:
        raise UsageError(
            "no strategy files found", hint="pass files or folders with *.yaml, *.yml or *.json"
        )
    if names.count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    if "-" not in names:
        refuse_unused(
            "validate without - (standard input)",
            {"--stdin-filename": stdin_filename},
            hint="--stdin-filename names the file read from -",
        )
    reports = list(lint_files(names, stdin_filename))
    findings = [f for report in reports for f in report.findings]
    unreadable = [r.error for r in reports if r.error]
    if chosen is LintFormat.json:
        write_json(render.as_json(len(names), findings))
    elif chosen is LintFormat.sarif:
        write_json(render.as_sarif(findings))
    elif chosen is LintFormat.github:
        text = render.as_github(findings)
        if text:
            typer.echo(text)
    else:
        render.print_text(len(names), findings)
    if unreadable:
        _report_unreadable(unreadable)
    return ExitCode.USAGE if unreadable else _exit_code(findings, strict)


def _report_unreadable(errors: list[str]) -> None:
    """Files that could not be read at all: one line each on stderr; the others were linted."""
    from rich.markup import escape

    from .console import err

    for message in errors:
        err().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def _exit_code(findings: list[Finding], strict: bool) -> int:
    if any(f.severity == "error" for f in findings) or (strict and findings):
        return ExitCode.FAILED
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
