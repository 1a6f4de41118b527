"""Whatever the input, linting ends in findings with positions, never in a traceback.

Arbitrary text and bytes, YAML-looking text, arbitrary YAML trees and mutations of the clean
sample strategy go through `load_text`/`load_bytes` + `lint_document` (the CLI's core).
test_validate_cli.py sends a smaller number through the command itself.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from conftest import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lintkit import assert_well_formed

from strategy_cli.adapters.yamlsource import load_bytes, load_text
from strategy_cli.core import jtd
from strategy_cli.core.findings import Finding
from strategy_cli.core.lint import lint_document

SAMPLE_TEXT = (SAMPLES / "loan-collection.yaml").read_text(encoding="utf-8")
SAMPLE = yaml.safe_load(SAMPLE_TEXT)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


# Keys and values of the strategy format, so that generated trees reach the deeper rules.
KEYS = [
    "name", "description", "version", "settings", "config", "timezone", "requestDelayTime",
    "instanceValidation", "properties", "optionalProperties", "additionalProperties", "type",
    "enum", "elements", "values", "ref", "definitions", "discriminator", "mapping", "nullable",
    "schedule", "initialDelay", "calendars", "key", "runOnCycle", "runOnCycleCallback",
    "scheduleAfter", "scheduleBefore", "leadingUpTasks", "task", "unit", "amount", "from",
    "resetTo", "hour", "day", "retryEventCallback", "onCreateTasks", "onCancelTasks", "delayBy",
    "services", "baseUrls", "environment", "url", "authorization", "methods", "method",
    "requestValidation", "responseValidation", "tasks", "steps", "initialStep", "nextStep",
    "nextStepRules", "if", "ifCallback", "final", "action", "retryConfig", "times",
    "retryStrategy", "retryAfter", "actions", "service", "headers", "params", "data", "<<",
]  # fmt: skip
WORDS = [
    "days", "months", "minutes", "onError", "callback", "onBeforeRetry", "post", "UTC",
    "Europe/Berlin", "timestamp", "string", "https://api.example.com", "ftp://x", "production",
    "{{ attributes.loanId }}", "{{ steps.collect.data.id }}", "{{ steps..x }}", "{{ }}",
    "{{ nope.x }}", "{{ attributes.x[0] }}", "${env:TOKEN}", '{"type": "string"}', "{not json",
    "collect", "receipt", "charge", "remind", "payments", "charge-card",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.sampled_from(KEYS + WORDS)
)
keys = st.sampled_from(KEYS) | st.text(max_size=8)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)

# Text that looks like YAML: indentation (with tabs), keys, flow brackets, anchors, quotes...
fragments = st.sampled_from(
    [
        "  ", "    ", "\t", "- ", "? ", ": ", ":", "\n", "\r\n", "---\n", "...\n", "#", "{", "}",
        "[", "]", ",", "&a ", "*a", "&b ", "*b", "<<: *a", "!!int ", "!!binary ", "!custom ",
        "'", '"', "|\n", ">-\n", "%YAML 1.1\n", "\\", "\x00", "\x07", "\ufeff", "\u00e9", "~",
        "null", "true", "1e3", "0x1F", "2024-01-31", "key", "name", "settings", "tasks", "steps",
        "{{ attributes.a }}",
    ]
    + [f"{k}: " for k in KEYS]
)  # fmt: skip
yamlish = st.lists(fragments | st.text(max_size=3), max_size=60).map("".join)


def _lint_text(text: str, file: str = "fuzz.yaml") -> list[Finding]:
    findings = lint_document(load_text(text, file, is_json=file.endswith(".json")))
    assert_well_formed(findings, len(text.splitlines()))
    return findings


@fuzz(400)
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    # no text generated here is a complete strategy: there is always something to report
    assert _lint_text(text)


@fuzz(400)
@given(yamlish)
def test_yaml_looking_text(text: str) -> None:
    assert _lint_text(text)


@fuzz(200)
@given(st.binary(max_size=300), st.sampled_from(["fuzz.yaml", "fuzz.json"]))
def test_arbitrary_bytes(raw: bytes, file: str) -> None:
    findings = lint_document(load_bytes(raw, file, is_json=file.endswith(".json")))
    assert findings
    assert_well_formed(findings, raw.count(b"\n") + raw.count(b"\r") + 1)


@fuzz(300)
@given(trees)
def test_arbitrary_yaml_trees(tree: Any) -> None:
    assert _lint_text(yaml.safe_dump(tree, allow_unicode=True))
    # the same tree in the places where a strategy has structure
    for wrapped in (
        {"name": "fuzz", "settings": tree},
        {"name": "fuzz", "settings": {**SAMPLE["settings"], "tasks": tree}},
    ):
        _lint_text(yaml.safe_dump(wrapped, allow_unicode=True))


@fuzz(100)
@given(trees)
def test_arbitrary_json_trees(tree: Any) -> None:
    _lint_text(json.dumps({"name": "fuzz", "settings": tree}, indent=2), "fuzz.json")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_samples(draw: st.DrawFn) -> dict[str, Any]:
    """The sample with 1-4 edits: drop a key or item, replace a value (often with the wrong
    type), duplicate a list item, rename a key, or swap in a value from elsewhere."""
    data = copy.deepcopy(SAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(["drop", "replace", "wrong-type", "dup", "rename", "swap"]))
        if op == "drop":
            del parent[last]
        elif op == "replace":
            parent[last] = draw(trees)
        elif op == "wrong-type":
            value = parent[last]
            parent[last] = (
                [value] if isinstance(value, dict) else {"v": value} if isinstance(value, list)
                else draw(st.sampled_from([None, [], {}, True, -1, 1.5, "x"]))
            )  # fmt: skip
        elif op == "dup" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(last)
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            source: Any = data
            for part in other:
                source = source[part]
            parent[last] = copy.deepcopy(source)
    return data


@fuzz(500)
@given(mutated_samples(), st.booleans())
def test_mutated_sample(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _lint_text(json.dumps(data, indent=2), "mutated.json")
    else:
        _lint_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@fuzz(200)
@given(
    st.integers(0, len(SAMPLE_TEXT)),
    st.sampled_from(["\t", "\n", ":", " ", "- ", "'", "\x00", "&x ", "*x"]),
)
def test_sample_text_with_a_character_inserted(at: int, insert: str) -> None:
    _lint_text(SAMPLE_TEXT[:at] + insert + SAMPLE_TEXT[at:])


@fuzz(100)
@given(st.integers(0, len(SAMPLE_TEXT)), st.integers(1, 40))
def test_sample_text_cut_short(at: int, length: int) -> None:
    _lint_text(SAMPLE_TEXT[:at] + SAMPLE_TEXT[at + length :])


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"email": {"type": ["string", "null"]}}},  # JSON Schema habit
        {"type": {"name": "string"}},
        {"discriminator": ["kind"], "mapping": {"a": {"properties": {}}}},
    ],
)
def test_jtd_schema_with_unhashable_values_is_a_finding(schema: dict[str, Any]) -> None:
    assert jtd.check_schema(schema)
    data = copy.deepcopy(SAMPLE)
    data["settings"]["config"]["instanceValidation"] = schema
    findings = lint_document(load_text(yaml.safe_dump(data, sort_keys=False), "s.yaml"))
    assert {f.rule for f in findings} == {"invalid-jtd-schema"}
