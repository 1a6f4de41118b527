"""Findings as text (rich), JSON, GitHub workflow commands or SARIF 2.1.0."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..core.findings import Finding
from ..core.rules_registry import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class Counts:
    """What was linted, and what was skipped on the way (hidden entries below named folders)."""

    files: int
    hidden_folders: int = 0
    hidden_files: int = 0


def summary(counts: Counts, findings: list[Finding]) -> dict[str, int]:
    errors = sum(f.severity == "error" for f in findings)
    return {
        "files": counts.files,
        "errors": errors,
        "warnings": len(findings) - errors,
        "skippedHidden": counts.hidden_folders + counts.hidden_files,
    }


def as_json(counts: Counts, findings: list[Finding]) -> dict[str, Any]:
    return {"summary": summary(counts, findings), "findings": [f.to_json() for f in findings]}


def as_github(findings: Iterable[Finding]) -> str:
    lines = []
    for f in findings:
        kind = "error" if f.severity == "error" else "warning"
        props = f"file={_gh_prop(f.file)},line={f.line},col={f.column},title={_gh_prop(f.rule)}"
        lines.append(f"::{kind} {props}::{_gh_data(_with_hint(f))}")
    return "\n".join(lines)


def _with_hint(f: Finding) -> str:
    return f"{f.message} ({f.hint})" if f.hint else f.message


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def as_sarif(findings: list[Finding]) -> dict[str, Any]:
    used = sorted({f.rule for f in findings} | set(RULES))
    index = {rule: i for i, rule in enumerate(used)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "strategy",
                        "version": __version__,
                        "informationUri": "https://example.invalid/strategy-cli",
                        "rules": [_descriptor(r) for r in used],
                    }
                },
                "results": [_result(f, index[f.rule]) for f in findings],
            }
        ],
    }


def _descriptor(rule: str) -> dict[str, Any]:
    info = RULES.get(rule)
    text = info.summary if info else rule
    level = "warning" if info and info.severity == "warning" else "error"
    return {
        "id": rule,
        "name": rule,
        "shortDescription": {"text": text},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": [info.group if info else "internal"]},
    }


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": f.severity,
        "message": {"text": _with_hint(f)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(f.file)},
                    "region": {"startLine": f.line, "startColumn": f.column},
                },
                "logicalLocations": [{"fullyQualifiedName": f.path}] if f.path else [],
            }
        ],
    }


def _uri(file: str) -> str:
    """A relative URI reference (RFC 3986) for a file path: spaces and the like %-encoded."""
    from urllib.parse import quote

    return quote(file.replace("\\", "/"), safe="/")


# How much of a source line is shown around the caret: a minified file is one huge line.
SOURCE_WINDOW = 120


def source_window(line: str, column: int, width: int = SOURCE_WINDOW) -> tuple[str, int]:
    """The part of `line` to show under a finding, and the caret's offset in it.

    At most `width` characters around `column` (1-based), with `…` where the line was cut, so
    that showing a finding takes the same time whatever the length of its line. Tabs are
    expanded here, so that the caret stays under the column it points at."""
    at = min(max(column - 1, 0), len(line))
    start = max(0, min(at - width // 2, len(line) - width))
    end = start + width
    head = "…" if start > 0 else ""
    # Only a bounded look past the window: a copy of the rest would cost per finding.
    tail = "…" if len(line) > end + width or line[end : end + width].strip() else ""
    piece = line[start:end]
    shown = head + (piece.rstrip() if not tail else piece).expandtabs(4) + tail
    return shown, len(head) + len(piece[: at - start].expandtabs(4))


def print_text(counts: Counts, findings: list[Finding]) -> None:
    from rich.markup import escape

    from .console import out

    console = out()
    current = None
    for f in findings:
        if f.file != current:
            if current is not None:
                console.print()
            console.print(f"[bold underline]{escape(f.file)}[/]")
            current = f.file
        colour = "red" if f.severity == "error" else "yellow"
        console.print(
            f"{escape(f.file)}:{f.line}:{f.column}: [{colour}]{f.severity}[/] "
            f"[dim]\\[{escape(f.rule)}][/] {escape(f.message)}",
            soft_wrap=True,
        )
        if f.source is not None:
            shown, caret = source_window(f.source, f.column)
            console.print(f"  {escape(shown)}", overflow="ignore", crop=False)
            console.print(" " * (caret + 2) + f"[{colour}]^[/]")
        if f.hint:
            console.print(f"  [dim]hint:[/] {escape(f.hint)}", soft_wrap=True)
    s = summary(counts, findings)
    verdict = "[green]ok[/]" if not s["errors"] else "[red]failed[/]"
    if findings:
        console.print()
    console.print(
        f"{verdict}: {s['files']} file(s), {s['errors']} error(s), {s['warnings']} warning(s)"
        + _skipped(counts)
    )


def _skipped(counts: Counts) -> str:
    """`; skipped 2 hidden folders and 1 hidden file`: what CI did not lint, said plainly."""
    parts = [
        f"{n} hidden {noun}{'s' if n != 1 else ''}"
        for n, noun in ((counts.hidden_folders, "folder"), (counts.hidden_files, "file"))
        if n
    ]
    return f"; skipped {' and '.join(parts)}" if parts else ""


def unchecked_callbacks_note(reports: Iterable[Any]) -> list[str]:
    """One note for the whole run (never one per reference) when files use callback names that
    nothing checked because no callback modules are configured."""
    files = [r for r in reports if getattr(r, "unchecked_callbacks", 0)]
    if not files:
        return []
    names = sum(r.unchecked_callbacks for r in files)
    return [
        f"{names} callback name(s) in {len(files)} file(s) not checked: no callback modules are "
        'configured (list them in `callbacks = ["module"]` under [tool.strategy] in '
        "pyproject.toml or .strategy.toml; see docs/callbacks.md)"
    ]


def print_notes(notes: list[str]) -> None:
    """Notes go to stderr: they are not findings and change no exit code."""
    from .console import err

    for note in notes:
        err().print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
