"""`core.jtd.check_schema` on its own: every problem, at the keyword it is about, never a crash
(a schema comes from the linted file: untrusted), and `describe`'s readable lines."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy_cli.core import jtd

PROPS = {"properties": {"id": {"type": "string"}}}


@pytest.mark.parametrize(
    ("schema", "problems"),
    [
        ({}, []),
        ({"type": "string", "nullable": True, "metadata": {"a": 1}}, []),
        ({"metadata": 1}, [(("metadata",), "metadata must be an object")]),
        ({"metadata": [], "type": "uint8"}, [(("metadata",), "metadata must be an object")]),
        ({"metadata": None}, [(("metadata",), "metadata must be an object")]),
        ({"nullable": "yes"}, [(("nullable",), "nullable must be true or false")]),
        ({"typo": 1}, [(("typo",), "'typo' is not a JTD keyword")]),
        ([], [((), "a JTD schema must be an object")]),
        ({"definitions": []}, [(("definitions",), "definitions must be an object")]),
        (
            {"definitions": {"d": {"metadata": "m"}}, "ref": "d"},
            [(("definitions", "d", "metadata"), "metadata must be an object")],
        ),
        (
            {"elements": {"definitions": {}}},
            [(("elements", "definitions"), "definitions are only allowed at the root")],
        ),
        ({"ref": "nope"}, [(("ref",), "ref 'nope' names no definition")]),
        ({"ref": 3}, [(("ref",), "ref must be a string")]),
        ({"type": "int64"}, [(("type",), f"type must be one of {', '.join(sorted(jtd._TYPES))}")]),
        ({"enum": []}, [(("enum",), "enum must be a non-empty list of strings")]),
        ({"enum": ["a", 1]}, [(("enum",), "enum must be a non-empty list of strings")]),
        ({"enum": "a"}, [(("enum",), "enum must be a non-empty list of strings")]),
        ({"enum": ["a", "a"]}, [(("enum",), "enum repeats a value")]),
        ({"elements": 1}, [(("elements",), "a JTD schema must be an object")]),
        ({"values": {"type": 1}}, [(("values", "type"), jtd.check_schema({"type": 1})[0][1])]),
        (
            {"type": "string", "enum": ["a"]},
            [((), "a schema has one form, this one mixes type and enum")],
        ),
        (
            {"additionalProperties": True},
            [(("additionalProperties",), "additionalProperties needs properties")],
        ),
        (
            {**PROPS, "additionalProperties": "no"},
            [(("additionalProperties",), "additionalProperties must be true or false")],
        ),
        ({"properties": []}, [(("properties",), "properties must be an object")]),
        (
            {"optionalProperties": {"x": {}}, "properties": {"x": {}}},
            [(("optionalProperties", "x"), "'x' is both required and optional")],
        ),
        (
            {"properties": {"x": {"nullable": 0}}},
            [(("properties", "x", "nullable"), "nullable must be true or false")],
        ),
    ],
)  # fmt: skip
def test_check_schema_reports_each_problem_where_it_is(schema: Any, problems: list) -> None:
    assert jtd.check_schema(schema) == problems


@pytest.mark.parametrize(
    ("schema", "problems"),
    [
        ({"discriminator": "k", "mapping": {"a": PROPS}}, []),
        ({"discriminator": "k", "mapping": {"a": {"optionalProperties": {}}}}, []),
        (
            {"discriminator": "k", "mapping": {"a": 1, "b": [], "c": None}},
            [
                (("mapping", "a"), "a JTD schema must be an object"),
                (("mapping", "b"), "a JTD schema must be an object"),
                (("mapping", "c"), "a JTD schema must be an object"),
            ],
        ),
        (
            {"discriminator": "k", "mapping": {"a": {**PROPS, "metadata": 2}}},
            [(("mapping", "a", "metadata"), "metadata must be an object")],
        ),
        (
            {"discriminator": "k", "mapping": []},
            [(("mapping",), "mapping must be an object of schemas")],
        ),
        ({"discriminator": "k"}, [(("mapping",), "mapping must be an object of schemas")]),
        (
            {"discriminator": 1, "mapping": {"a": PROPS}},
            [(("discriminator",), "discriminator must be a string")],
        ),
        (
            {"discriminator": "k", "mapping": {"a": {**PROPS, "nullable": True}}},
            [(("mapping", "a"), "a discriminator mapping schema cannot be nullable")],
        ),
        (
            {"discriminator": "k", "mapping": {"a": {"type": "string"}}},
            [(("mapping", "a"), "a discriminator mapping schema must be of properties form")],
        ),
        (
            {"discriminator": "id", "mapping": {"a": PROPS}},
            [(("mapping", "a", "properties", "id"), "'id' is the discriminator, not a property")],
        ),
        (
            {"discriminator": "id", "mapping": {"a": {"optionalProperties": {"id": {}}}}},
            [
                (
                    ("mapping", "a", "optionalProperties", "id"),
                    "'id' is the discriminator, not a property",
                )
            ],
        ),
    ],
)
def test_discriminator_mappings(schema: Any, problems: list) -> None:
    assert jtd.check_schema(schema) == problems


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([*sorted(jtd._KEYWORDS), "x", "id"]), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(schema=JSON)
def test_check_schema_never_crashes(schema: Any) -> None:
    for path, message in jtd.check_schema(schema):
        assert isinstance(path, tuple) and message


@pytest.mark.parametrize(
    ("schema", "instance", "lines"),
    [
        (PROPS, {}, ["(root): missing required property 'id'"]),
        (PROPS, {"id": 1}, ["/id: expected string, got 1"]),
        (PROPS, {"id": "x", "extra": 1}, ["/extra: property not allowed by the schema"]),
        ({"enum": ["a", "b"]}, "c", ["(root): not one of a, b"]),
        ({"elements": {"type": "uint8"}}, [1, 300], ["/1: expected uint8, got 300"]),
        ({"elements": {}}, {}, ["(root): fails 'elements' (schema /elements)"]),
        ({"type": "timestamp"}, "1990-12-31T23:59:60Z", []),  # a leap second is valid
        ({"type": "timestamp"}, "1990-12-31T23:59:61Z", [
            '(root): expected timestamp, got "1990-12-31T23:59:61Z"'
        ]),
        # the value shown is cut at 40 characters
        ({"type": "string"}, list(range(40)), [
            "(root): expected string, got [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1"
        ]),
        ({"values": {"type": "string"}}, {"a": 1}, ["/a: expected string, got 1"]),
        ({"discriminator": "k", "mapping": {"a": {"properties": {}}}}, {"k": "b"}, [
            "/k: fails 'mapping' (schema /mapping)"
        ]),
        ({"discriminator": "k", "mapping": {"a": {"properties": {}}}}, {}, [
            "(root): fails 'discriminator' (schema /discriminator)"
        ]),
        # a leap second is valid RFC 3339 wherever the timestamp is
        ({"properties": {"t": {"type": "timestamp"}}}, {"t": "1990-12-31T23:59:60Z"}, []),
        ({"elements": {"type": "timestamp"}}, ["2016-12-31T23:59:60+00:00"], []),
        # ...but only a timestamp accepts one
        ({"type": "uint8"}, "1990-12-31T23:59:60Z", [
            '(root): expected uint8, got "1990-12-31T23:59:60Z"'
        ]),
        ({"enum": ["a"]}, "1990-12-31T23:59:60Z", ["(root): not one of a"]),
        ({"type": "string"}, "x" * 50, []),
    ],
)  # fmt: skip
def test_describe_gives_one_readable_line_per_error(
    schema: dict[str, Any], instance: Any, lines: list[str]
) -> None:
    assert jtd.describe(schema, instance) == lines


def test_a_schema_mixing_forms_is_reported_once_not_also_per_form() -> None:
    assert jtd.check_schema({"type": "int64", "enum": []}) == [
        ((), "a schema has one form, this one mixes type and enum")
    ]


def test_errors_are_values() -> None:
    (error,) = jtd.validate({"type": "string"}, 1)
    assert error == jtd.JtdError([], ["type"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.instancePath = ["x"]  # type: ignore[misc]
    assert (error.pointer, jtd.JtdError(["a", "0"], []).pointer) == ("(root)", "/a/0")


def test_following_a_path_that_is_not_there_gives_none() -> None:
    assert jtd._follow({"a": [1, {"b": 2}]}, ["a", "1", "b"]) == 2
    assert jtd._follow({"a": 1}, ["b", "c"]) is None
    assert jtd._follow({"a": [1]}, ["a", "5"]) is None
    assert jtd._follow({"a": [1]}, ["a", "x"]) is None
