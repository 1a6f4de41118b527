"""The official JSON Type Definition suites (shared/conformance/jtd), through the linter and
through `strategy_cli.core.jtd`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SAMPLES, SHARED
from lintkit import assert_well_formed, lint_text

from strategy_cli.core import jtd

SUITES = SHARED / "conformance" / "jtd"
SAMPLE = yaml.safe_load((SAMPLES / "loan-collection.yaml").read_text(encoding="utf-8"))


def _suite(name: str) -> dict[str, Any]:
    path = SUITES / name
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _cases(name: str) -> list[Any]:
    suite = _suite(name)
    if not suite:
        reason = f"JTD conformance suite {SUITES / name} is absent (shared/ not laid out)"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return [pytest.param(key, value, id=key) for key, value in suite.items()]


def _with_instance_validation(schema: Any) -> str:
    data = copy.deepcopy(SAMPLE)
    data["settings"]["config"]["instanceValidation"] = schema
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def test_the_sample_is_clean_as_a_base() -> None:
    same = SAMPLE["settings"]["config"]["instanceValidation"]
    assert lint_text(_with_instance_validation(same)) == []


@pytest.mark.parametrize(("name", "schema"), _cases("invalid_schemas.json"))
def test_invalid_schema_is_an_invalid_jtd_schema_finding(name: str, schema: Any) -> None:
    text = _with_instance_validation(schema)
    findings = lint_text(text)
    assert_well_formed(findings, len(text.splitlines()))
    jtd_findings = [f for f in findings if f.rule == "invalid-jtd-schema"]
    assert jtd_findings, f"{name}: {[(f.rule, f.message) for f in findings]}"
    key_line = next(
        n for n, line in enumerate(text.splitlines(), 1) if "instanceValidation:" in line
    )
    for f in jtd_findings:
        assert f.path.startswith("settings.config.instanceValidation"), f
        assert f.line >= key_line, f  # inside the schema, not somewhere else in the file
    # The rest of the (clean) strategy stays clean; the one schema problem is reported once.
    assert {f.rule for f in findings} == {"invalid-jtd-schema"}
    # The checker agrees with itself.
    assert jtd.check_schema(schema)


@pytest.mark.parametrize(("name", "case"), _cases("validation.json"))
def test_validation_suite(name: str, case: dict[str, Any]) -> None:
    schema, instance = case["schema"], case["instance"]
    assert jtd.check_schema(schema) == [], "the suite's schemas are all valid"
    got = sorted(
        (tuple(e.instancePath), tuple(e.schemaPath)) for e in jtd.validate(schema, instance)
    )
    expected = sorted((tuple(e["instancePath"]), tuple(e["schemaPath"])) for e in case["errors"])
    assert got == expected


def test_suites_are_where_the_tests_look() -> None:
    if not SUITES.is_dir():
        pytest.skip(f"{SUITES} is absent")
    assert (SUITES / "invalid_schemas.json").is_file()
    assert (SUITES / "validation.json").is_file()
    assert Path(SHARED).resolve() == (Path(__file__).resolve().parents[3] / "shared").resolve()
