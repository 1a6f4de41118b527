"""Findings: what a check reports, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
PathPart = str | int
DocPath = tuple[PathPart, ...]


@dataclass(slots=True)
class Finding:
    file: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    path: str
    hint: str | None = None
    # The offending source line, for carets in text output; not part of the JSON contract.
    source: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "path": self.path,
            "hint": self.hint,
        }


def format_path(path: DocPath) -> str:
    """('settings', 'tasks', 0, 'key') -> 'settings.tasks[0].key'."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else str(part))
    return "".join(out)
