"""The official JTD validation suite (shared/conformance/jtd/validation.json) through the code
path that checks instance attributes: `core.attributes.attribute_problems` -> `core.jtd`.

Attributes must be a JSON object, so object instances go through `attribute_problems` (problems
empty iff the suite expects no error, one line per expected error, naming its instance path) and
every instance, object or not, through `core.jtd.validate`, compared with the suite's exact
(instancePath, schemaPath) errors.

The `jtd` library itself gets two cases wrong, both leap seconds (`23:59:60`, valid RFC 3339):
`core/jtd.py` drops those false alarms; `test_the_library_gap_is_only_leap_seconds` pins that.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from conftest import SHARED

from strategy_cli.core import jtd
from strategy_cli.core.attributes import attribute_problems
from strategy_cli.core.models import Settings

SUITE = SHARED / "conformance" / "jtd" / "validation.json"
# Cases the `jtd` library (0.1.1) gets wrong on its own; core/jtd.py works around them.
LIBRARY_GAPS = {
    "timestamp type schema - 1990-12-31T23:59:60Z",
    "timestamp type schema - 1990-12-31T15:59:60-08:00",
}


def _suite() -> dict[str, Any]:
    if not SUITE.is_file():
        return {}
    return json.loads(SUITE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


CASES = _suite()
pytestmark = pytest.mark.skipif(
    not CASES, reason=f"JTD conformance suite {SUITE} is absent (../shared not laid out)"
)


def _params(objects: bool | None) -> list[Any]:
    chosen = [
        pytest.param(case, id=name)
        for name, case in CASES.items()
        if objects is None or isinstance(case["instance"], dict) == objects
    ]
    return chosen or [pytest.param(None, id="absent")]


def _expected(case: dict[str, Any]) -> Counter[tuple[tuple[str, ...], tuple[str, ...]]]:
    return Counter((tuple(e["instancePath"]), tuple(e["schemaPath"])) for e in case["errors"])


def _settings(schema: dict[str, Any]) -> Settings:
    return Settings.model_validate(
        {
            "config": {"instanceValidation": schema},
            "schedule": {"calendars": []},
            "services": [],
            "tasks": [],
            "actions": [],
        }
    )


def _pointer(path: list[str]) -> str:
    return "/" + "/".join(path) if path else "(root)"


@pytest.mark.parametrize("case", _params(objects=True))
def test_object_instances_through_attribute_problems(case: dict[str, Any]) -> None:
    problems = attribute_problems(_settings(case["schema"]), case["instance"])
    assert (problems == []) == (case["errors"] == []), problems
    # Every failing instance path is reported, one line each.
    assert len(problems) == len(case["errors"]), problems
    reported = Counter(p.split(": ", 1)[0] for p in problems)
    assert reported == Counter(_pointer(e["instancePath"]) for e in case["errors"]), problems


@pytest.mark.parametrize("case", _params(objects=None))
def test_validate_gives_the_exact_errors(case: dict[str, Any]) -> None:
    errors = jtd.validate(case["schema"], case["instance"])
    got = Counter((tuple(e.instancePath), tuple(e.schemaPath)) for e in errors)
    assert got == _expected(case)


@pytest.mark.parametrize("case", _params(objects=False))
def test_non_objects_are_never_attributes(case: dict[str, Any]) -> None:
    assert attribute_problems(_settings(case["schema"]), case["instance"]) == [
        "attributes must be a JSON object"
    ]


def test_the_library_gap_is_only_leap_seconds() -> None:
    """What the `jtd` library alone gets wrong: exactly the known leap-second cases."""
    import jtd as library

    wrong = set()
    for name, case in CASES.items():
        schema = library.Schema.from_dict(case["schema"])
        found = library.validate(schema=schema, instance=case["instance"])
        got = Counter(
            (tuple(map(str, e.instance_path)), tuple(map(str, e.schema_path))) for e in found
        )
        if got != _expected(case):
            wrong.add(name)
    assert wrong == LIBRARY_GAPS


@pytest.mark.parametrize(
    "value,ok",
    [
        ("2027-02-01t08:00:00z", True),
        ("2027-02-01T08:00:00z", True),
        ("2027-02-01t08:00:00+01:00", True),
        ("2027-02-01t08:00:60Z", True),
        ("2027-02-01x08:00:00z", False),
        ("2027-02-30t08:00:00z", False),
        ("2027-02-01t25:00:00z", False),
        ("2027-02-01", False),
    ],
)
def test_timestamps_take_lower_case_t_and_z_as_rfc_3339_allows(value: str, ok: bool) -> None:
    """RFC 3339 section 5.6: `T` and `Z` may be lower case; `from` attributes already read them."""
    problems = attribute_problems(
        _settings({"properties": {"due": {"type": "timestamp"}}}), {"due": value}
    )
    assert (problems == []) is ok, problems
