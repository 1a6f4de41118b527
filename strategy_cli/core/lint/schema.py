"""Schema rules: the models' verdict (through the generated shape table), turned into findings
with positions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import shapes
from ..document import Document, get_in
from ..findings import DocPath, Finding
from .walk import did_you_mean

# The kinds shapes.errors() reports for a value of the wrong type (the models are strict).
_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
}
_RANGE = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}


def check_schema(doc: Document) -> Iterator[Finding]:
    for err in shapes.errors(doc.data):
        finding = _finding(doc, err)
        if finding is not None:
            yield finding


# Reported as invalid-jtd-schema by data.py, which checks what a JTD schema must be.
_LEFT_TO_DATA: set[DocPath] = {("settings", "config", "instanceValidation")}


def _finding(doc: Document, err: Any) -> Finding | None:
    loc: DocPath = tuple(err["loc"])
    kind = err["type"]
    if loc in _LEFT_TO_DATA:
        return None
    name = str(loc[-1]) if loc else "document"
    if kind == "extra_forbidden":
        allowed = shapes.allowed_keys(loc[:-1])
        hint = did_you_mean(name, allowed) or (
            f"allowed: {', '.join(allowed)}" if allowed else None
        )
        return doc.finding("unknown-key", loc, f"unknown key '{name}'", hint=hint, at="key")
    if kind == "missing":
        return doc.finding("missing-key", loc[:-1], f"missing required key '{name}'", at="key")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        value = get_in(doc.data, loc)
        return doc.finding(
            "enum-value",
            loc,
            f"'{name}' is {value!r}, not an allowed value",
            hint=f"allowed: {expected}",
        )
    if kind in _RANGE:
        value = get_in(doc.data, loc)
        bound = _bound_text(kind, err.get("ctx", {}))
        return doc.finding("out-of-range", loc, f"'{name}' is {value!r}; it must be {bound}")
    if kind in _TYPE_NAMES:
        value = get_in(doc.data, loc)
        return doc.finding(
            "wrong-type", loc, f"'{name}' must be {_TYPE_NAMES[kind]}, not {_kind(value)}"
        )
    return doc.finding("wrong-type", loc, f"'{name}': {err['msg']}")


def _bound_text(kind: str, ctx: dict[str, Any]) -> str:
    words = {
        "greater_than_equal": ">= {ge}",
        "less_than_equal": "<= {le}",
        "greater_than": "> {gt}",
        "less_than": "< {lt}",
    }
    return words[kind].format(**ctx)


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    return "a list" if isinstance(value, list) else "a mapping"


def check_timezone(doc: Document) -> Iterator[Finding]:
    from zoneinfo import ZoneInfo

    path = ("settings", "config", "timezone")
    name = get_in(doc.data, path)
    if not isinstance(name, str):
        return
    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        yield doc.finding(
            "unknown-timezone",
            path,
            f"'{name}' is not an IANA time zone",
            hint=_zone_hint(name),
        )


def _zone_hint(name: str) -> str:
    import zoneinfo

    match = did_you_mean(name, zoneinfo.available_timezones())
    return match or "use a name such as Europe/Berlin or America/New_York"
