"""`strategy validate`: lint strategy files like a CI gate."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from ..core.findings import Finding
from ..errors import ExitCode, UsageError
from .common import MaxFileSizeOption, max_file_bytes


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
    max_file_size: MaxFileSizeOption = None,
) -> int:
    """Check strategy files for mistakes.

    Schema, references, step graphs, schedule, services and data. Every finding of every file is reported in one run, with file:line:col and a rule id.
    Exit code: 0 no errors, 1 errors (or warnings with --strict), 2 usage errors.

    Example: strategy validate sample-strategies/ --format json
    """
    from ..adapters.files import expand
    from ..adapters.lintrun import lint_files, unlistable_folder
    from . import render_findings as render
    from .common import refuse_unused
    from .console import write_json

    chosen = format or (
        LintFormat.github if os.environ.get("GITHUB_ACTIONS") == "true" else LintFormat.text
    )
    limit = max_file_bytes(max_file_size)
    found = expand(paths)
    names = found.files
    if not names and not found.unreadable:
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
    reports = [unlistable_folder(folder, why) for folder, why in found.unreadable]
    reports += lint_files(names, stdin_filename, limit)
    findings = [f for report in reports for f in report.findings]
    counts = render.Counts(len(names), found.hidden_folders, found.hidden_files)
    notes = render.unchecked_callbacks_note(reports)
    if chosen is LintFormat.json:
        write_json({**render.as_json(counts, findings), "notes": notes})
    elif chosen is LintFormat.sarif:
        write_json(render.as_sarif(findings))
    elif chosen is LintFormat.github:
        text = render.as_github(findings)
        if text:
            typer.echo(text)
    else:
        render.print_text(counts, findings)
    if chosen is not LintFormat.json:  # JSON carries them in its "notes"
        render.print_notes(notes)
    return _exit_code(findings, strict)


def _exit_code(findings: list[Finding], strict: bool) -> int:
    if any(f.severity == "error" for f in findings) or (strict and findings):
        return ExitCode.FAILED
    return ExitCode.OK


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
