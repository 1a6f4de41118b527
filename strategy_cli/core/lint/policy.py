"""Per-rule severity overrides and inline `# strategy: disable=RULE` comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from ..findings import Finding

Setting = Literal["error", "warning", "off"]
_INLINE = re.compile(r"#\s*strategy:\s*disable=([\w,\s-]+)")


@dataclass(frozen=True)
class Policy:
    rules: dict[str, Setting] = field(default_factory=dict)
    strict: bool = False

    def apply(self, findings: list[Finding], lines: list[str]) -> list[Finding]:
        out = []
        for f in findings:
            setting = self.rules.get(f.rule)
            if setting == "off" or f.rule in _disabled_on(lines, f.line):
                continue
            out.append(replace(f, severity=setting) if setting else f)
        return out


def _disabled_on(lines: list[str], line: int) -> set[str]:
    if not 0 < line <= len(lines) or "strategy:" not in lines[line - 1]:
        return set()
    m = _INLINE.search(lines[line - 1])
    return {r.strip() for r in m.group(1).split(",")} if m else set()
