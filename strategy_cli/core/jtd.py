"""JSON Type Definition (RFC 8927): schema checking with paths, and instance validation.

Instances are validated by the `jtd` library. Its gaps against RFC 3339: its timestamp check
(strict_rfc3339) rejects leap seconds (`23:59:60`) and a lower-case `t` or `z` (RFC 3339 section
5.6 allows both, and `from` attributes accept them); such errors are dropped here. Schema checking is done here rather than by the library so that a
finding can point at the offending keyword instead of the whole schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TYPES = frozenset(
    [
        "boolean",
        "float32",
        "float64",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "string",
        "timestamp",
    ]
)
_FORMS: dict[str, frozenset[str]] = {
    "ref": frozenset({"ref"}),
    "type": frozenset({"type"}),
    "enum": frozenset({"enum"}),
    "elements": frozenset({"elements"}),
    "properties": frozenset({"properties", "optionalProperties", "additionalProperties"}),
    "values": frozenset({"values"}),
    "discriminator": frozenset({"discriminator", "mapping"}),
}
_COMMON = frozenset({"nullable", "metadata", "definitions"})
_KEYWORDS = _COMMON.union(*_FORMS.values())
_TIMESTAMP = {"type": "timestamp"}
_LEAP = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:60(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class JtdError:
    instancePath: list[str]
    schemaPath: list[str]

    @property
    def pointer(self) -> str:
        return "/" + "/".join(self.instancePath) if self.instancePath else "(root)"


def check_schema(schema: Any) -> list[tuple[Path, str]]:
    """Every way `schema` breaks RFC 8927, as (path inside the schema, message)."""
    problems: list[tuple[Path, str]] = []
    if not isinstance(schema, dict):
        return [((), "a JTD schema must be an object")]
    defs = schema.get("definitions")
    if "definitions" in schema and not isinstance(defs, dict):
        problems.append((("definitions",), "definitions must be an object"))
        defs = {}
    names = set(defs or {})
    for name, sub in (defs or {}).items():
        _check(sub, ("definitions", name), names, problems)
    _check(schema, (), names, problems, root=True)
    return problems


def _check(
    s: Any, path: Path, defs: set[str], out: list[tuple[Path, str]], root: bool = False
) -> None:
    if not isinstance(s, dict):
        out.append((path, "a JTD schema must be an object"))
        return
    unknown = [k for k in s if k not in _KEYWORDS]
    if unknown:
        out.append(((*path, unknown[0]), f"'{unknown[0]}' is not a JTD keyword"))
    if "definitions" in s and not root:
        out.append(((*path, "definitions"), "definitions are only allowed at the root"))
    if "nullable" in s and not isinstance(s["nullable"], bool):
        out.append(((*path, "nullable"), "nullable must be true or false"))
    if "metadata" in s and not isinstance(s["metadata"], dict):
        out.append(((*path, "metadata"), "metadata must be an object"))
    forms = [f for f, keys in _FORMS.items() if keys & s.keys()]
    if len(forms) > 1:
        out.append((path, f"a schema has one form, this one mixes {' and '.join(forms)}"))
        return
    if forms:
        _FORM_CHECKS[forms[0]](s, path, defs, out)


def _check_ref(s: dict, path: Path, defs: set[str], out: list) -> None:
    ref = s["ref"]
    if not isinstance(ref, str):
        out.append(((*path, "ref"), "ref must be a string"))
    elif ref not in defs:
        out.append(((*path, "ref"), f"ref '{ref}' names no definition"))


def _check_type(s: dict, path: Path, defs: set[str], out: list) -> None:
    if not isinstance(s["type"], str) or s["type"] not in _TYPES:
        out.append(((*path, "type"), f"type must be one of {', '.join(sorted(_TYPES))}"))


def _check_enum(s: dict, path: Path, defs: set[str], out: list) -> None:
    enum = s["enum"]
    if not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum):
        out.append(((*path, "enum"), "enum must be a non-empty list of strings"))
    elif len(set(enum)) != len(enum):
        out.append(((*path, "enum"), "enum repeats a value"))


def _check_elements(s: dict, path: Path, defs: set[str], out: list) -> None:
    _check(s["elements"], (*path, "elements"), defs, out)


def _check_values(s: dict, path: Path, defs: set[str], out: list) -> None:
    _check(s["values"], (*path, "values"), defs, out)


def _check_properties(s: dict, path: Path, defs: set[str], out: list) -> None:
    if "properties" not in s and "optionalProperties" not in s:
        out.append(((*path, "additionalProperties"), "additionalProperties needs properties"))
    seen: set[str] = set()
    for kw in ("properties", "optionalProperties"):
        if kw not in s:
            continue
        props = s[kw]
        if not isinstance(props, dict):
            out.append(((*path, kw), f"{kw} must be an object"))
            continue
        for name, sub in props.items():
            if name in seen:
                out.append(((*path, kw, name), f"'{name}' is both required and optional"))
            seen.add(name)
            _check(sub, (*path, kw, name), defs, out)
    if "additionalProperties" in s and not isinstance(s["additionalProperties"], bool):
        out.append(((*path, "additionalProperties"), "additionalProperties must be true or false"))


def _check_discriminator(s: dict, path: Path, defs: set[str], out: list) -> None:
    tag, mapping = s.get("discriminator"), s.get("mapping")
    if not isinstance(tag, str):
        out.append(((*path, "discriminator"), "discriminator must be a string"))
    if not isinstance(mapping, dict):
        out.append(((*path, "mapping"), "mapping must be an object of schemas"))
        return
    for name, sub in mapping.items():
        sub_path = (*path, "mapping", name)
        _check(sub, sub_path, defs, out)
        if not isinstance(sub, dict):
            continue
        if sub.get("nullable") is True:
            out.append((sub_path, "a discriminator mapping schema cannot be nullable"))
        if not ({"properties", "optionalProperties"} & sub.keys()):
            out.append((sub_path, "a discriminator mapping schema must be of properties form"))
        for kw in ("properties", "optionalProperties"):
            if isinstance(tag, str) and isinstance(sub.get(kw), dict) and tag in sub[kw]:
                out.append(((*sub_path, kw, tag), f"'{tag}' is the discriminator, not a property"))


_FORM_CHECKS = {
    "ref": _check_ref,
    "type": _check_type,
    "enum": _check_enum,
    "elements": _check_elements,
    "properties": _check_properties,
    "values": _check_values,
    "discriminator": _check_discriminator,
}


def validate(schema: dict[str, Any], instance: Any) -> list[JtdError]:
    """Errors of `instance` against a schema already known to be valid."""
    import jtd as _jtd

    parsed = _jtd.Schema.from_dict(schema)
    errors = _jtd.validate(schema=parsed, instance=instance)
    return [
        JtdError([str(p) for p in e.instance_path], [str(p) for p in e.schema_path])
        for e in errors
        if not _is_timestamp_false_alarm(e, schema, instance)
    ]


def _is_timestamp_false_alarm(error: Any, schema: Any, instance: Any) -> bool:
    if not error.schema_path or error.schema_path[-1] != "type":
        return False
    node = _follow(schema, error.schema_path[:-1])
    if not isinstance(node, dict) or node.get("type") != "timestamp":
        return False
    value = _follow(instance, error.instance_path)
    if not isinstance(value, str):
        return False
    import jtd as _jtd

    # The only letters of an RFC 3339 date-time are T and Z, so upper-casing is exact.
    return bool(_LEAP.match(value)) or (
        value != value.upper()
        and not _jtd.validate(schema=_jtd.Schema.from_dict(_TIMESTAMP), instance=value.upper())
    )


def _follow(value: Any, tokens: list[Any]) -> Any:
    for part in tokens:
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return value


def describe(schema: dict[str, Any], instance: Any) -> list[str]:
    """Readable lines, one per failing instance path."""
    return [_explain(schema, instance, err) for err in validate(schema, instance)]


def _explain(schema: dict[str, Any], instance: Any, err: JtdError) -> str:
    sp = err.schemaPath
    keyword = sp[-1] if sp else ""
    node = _follow(schema, sp[:-1]) if sp else schema
    if len(sp) >= 2 and sp[-2] == "properties":
        return f"{err.pointer}: missing required property '{keyword}'"
    if keyword == "type" and isinstance(node, dict):
        got = _follow(instance, err.instancePath)
        return f"{err.pointer}: expected {node.get('type')}, got {json.dumps(got)[:40]}"
    if keyword == "enum" and isinstance(node, dict):
        return f"{err.pointer}: not one of {', '.join(node.get('enum', []))}"
    if not sp or keyword in ("properties", "optionalProperties"):
        return f"{err.pointer}: property not allowed by the schema"
    return f"{err.pointer}: fails '{keyword}' (schema /{'/'.join(sp)})"
