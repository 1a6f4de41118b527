"""Helpers shared by the lint tests: lint text or bytes, read `# expect:` markers."""

from __future__ import annotations

import re
from pathlib import Path

from strategy_cli.adapters.yamlsource import load_bytes, load_text
from strategy_cli.core.callbacks import StaticCallbacks
from strategy_cli.core.findings import Finding
from strategy_cli.core.lint import lint_document
from strategy_cli.core.rules_registry import RULES

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*([\w\-, ]+)")


def lint_text(text: str, file: str = "strategy.yaml") -> list[Finding]:
    return lint_document(load_text(text, file))


def lint_bytes(raw: bytes, file: str = "strategy.yaml") -> list[Finding]:
    """A fixture may declare the callbacks its project defines, `# callbacks: a, b`, and the
    modules that cannot be read statically, `# unchecked: module`."""
    return lint_document(
        load_bytes(raw, file, is_json=file.endswith(".json")), None, _callbacks(raw)
    )


_CALLBACKS = re.compile(rb"^#\s*callbacks:(.*)$", re.MULTILINE)
_UNCHECKED = re.compile(rb"^#\s*unchecked:(.*)$", re.MULTILINE)


def _callbacks(raw: bytes) -> StaticCallbacks | None:
    names, unchecked = _CALLBACKS.search(raw), _UNCHECKED.search(raw)
    if names is None and unchecked is None:
        return None
    return StaticCallbacks(
        frozenset(_listed(names)), tuple((m, "declared by the fixture") for m in _listed(unchecked))
    )


def _listed(match: re.Match[bytes] | None) -> list[str]:
    return [n.strip() for n in match.group(1).decode().split(",") if n.strip()] if match else []


def expected_markers(raw: bytes) -> set[tuple[str, int]]:
    """(rule, line) for every `# expect: rule[, rule...]` comment in a fixture."""
    out: set[tuple[str, int]] = set()
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            out |= {(rule.strip(), number) for rule in m.group(1).split(",") if rule.strip()}
    return out


def assert_well_formed(findings: list[Finding], lines: int | None = None) -> None:
    """Every finding has a real position and a registered rule."""
    for f in findings:
        assert f.rule in RULES, f
        assert f.severity in ("error", "warning"), f
        assert isinstance(f.line, int) and f.line >= 1, f
        assert isinstance(f.column, int) and f.column >= 1, f
        assert f.message, f
        if lines is not None:
            # A parser may point just past the last line (an unexpected end of file).
            assert f.line <= lines + 1, f
