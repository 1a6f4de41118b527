"""A loaded strategy document: its data plus where every key and value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .findings import DocPath, Finding, PathPart, Severity, format_path
from .rules_registry import severity_of

Position = tuple[int, int]


@dataclass(slots=True)
class Document:
    file: str
    data: Any
    lines: list[str]
    values: dict[DocPath, Position] = field(default_factory=dict)
    keys: dict[DocPath, Position] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def locate(self, path: DocPath, at: Literal["key", "value"] = "value") -> Position:
        """The position of `path`, falling back to the nearest ancestor that has one."""
        first, second = (self.keys, self.values) if at == "key" else (self.values, self.keys)
        p = tuple(path)
        while p:
            if p in first:
                return first[p]
            if p in second:
                return second[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def finding(
        self,
        rule: str,
        path: DocPath,
        message: str,
        *,
        hint: str | None = None,
        at: Literal["key", "value"] = "value",
        severity: Severity | None = None,
    ) -> Finding:
        line, col = self.locate(path, at)
        return Finding(
            file=self.file,
            line=line,
            column=col,
            severity=severity or severity_of(rule),
            rule=rule,
            message=message,
            path=format_path(path),
            hint=hint,
            source=self.line_text(line),
        )

    def line_text(self, line: int) -> str | None:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else None


def get_in(data: Any, path: tuple[PathPart, ...]) -> Any:
    """Follow `path` through dicts and lists; None where any step is missing or mistyped."""
    cur = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list) or not -len(cur) <= part < len(cur):
                return None
        elif not isinstance(cur, dict):
            return None
        cur = cur[part] if isinstance(part, int) else cur.get(part)
    return cur
