"""Every lint rule has a failing and a passing fixture (tests/lint/fixtures/<rule-id>/).

A bad fixture marks each line a finding must point at with `# expect: rule-id` (several rules
separated by commas); the findings of the file must be exactly those (rule, line) pairs, so a
bad fixture is minimal. A good fixture is the corrected file: it must produce no finding at all.
A rule added to the registry without fixtures fails here.
"""

from __future__ import annotations

import pytest
from lintkit import FIXTURES, assert_well_formed, expected_markers, lint_bytes

from strategy_cli.core.rules_registry import FILE_RULES, RULES

RULE_IDS = sorted(set(RULES) - FILE_RULES)  # FILE_RULES: tests/test_validate_limits.py


def _fixture(rule: str, kind: str) -> bytes:
    path = FIXTURES / rule / f"{kind}.yaml"
    assert path.is_file(), f"rule '{rule}' has no {kind} fixture: add {path}"
    return path.read_bytes()


@pytest.mark.parametrize("rule", RULE_IDS)
def test_bad_fixture_reports_the_rule_on_the_marked_line(rule: str) -> None:
    raw = _fixture(rule, "bad")
    expected = expected_markers(raw)
    assert any(r == rule for r, _ in expected), f"bad fixture of '{rule}' marks no '{rule}' line"
    findings = lint_bytes(raw, f"{rule}/bad.yaml")
    assert_well_formed(findings, len(raw.splitlines()))
    got = {(f.rule, f.line) for f in findings}
    assert got == expected, "\n".join(
        f"{f.line}:{f.column} [{f.rule}] {f.message}" for f in findings
    )
    for f in findings:
        if f.rule != rule:
            continue
        assert f.severity == RULES[rule].severity
        assert f.file == f"{rule}/bad.yaml"
        if f.source is not None:  # the caret lands inside the line, on something visible
            assert f.column <= len(f.source), f
            assert not f.source[f.column - 1].isspace() or rule == "yaml-tab", f


@pytest.mark.parametrize("rule", RULE_IDS)
def test_good_fixture_is_clean(rule: str) -> None:
    raw = _fixture(rule, "good")
    assert not expected_markers(raw), "a good fixture carries no `# expect:` marker"
    findings = lint_bytes(raw, f"{rule}/good.yaml")
    assert not [f for f in findings if f.rule == rule], f"false positive of '{rule}'"
    assert findings == [], "\n".join(
        f"{f.line}:{f.column} [{f.rule}] {f.message}" for f in findings
    )


def test_every_fixture_folder_names_a_rule() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders - set(RULES) == set(), "fixture folders for rules that do not exist"
    assert set(RULE_IDS) - folders == set(), "rules without a fixture folder"
