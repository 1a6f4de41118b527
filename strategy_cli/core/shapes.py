"""A strategy file's shape, checked without pydantic.

The verdict is the models' own: shape_table.py is generated from their pydantic core schema
(scripts/gen_shapes.py) and tests/lint/test_shapes.py checks, over arbitrary documents, that
`errors()` returns exactly what `StrategyFile.model_validate` reports, in the same order and with
the same `loc`, `type` and `ctx`. What this saves is importing pydantic and building the models,
most of the start-up time of `strategy validate` on one file.
"""

from __future__ import annotations

from typing import Any

from .shape_table import MODELS, ROOT

Spec = tuple[Any, ...]
Loc = tuple[int | str, ...]

FIELDS = {name: frozenset(key for key, _, _ in fields) for name, fields in MODELS.items()}

_MESSAGES = {
    "missing": "Field required",
    "extra_forbidden": "Extra inputs are not permitted",
    "invalid_key": "Keys should be strings",
    "model_type": "Input should be a mapping",
    "string_type": "Input should be a valid string",
    "int_type": "Input should be a valid integer",
    "float_type": "Input should be a valid number",
    "bool_type": "Input should be a valid boolean",
    "list_type": "Input should be a valid list",
    "dict_type": "Input should be a valid dictionary",
    "literal_error": "Input should be {expected}",
    "less_than_equal": "Input should be less than or equal to {le}",
    "greater_than_equal": "Input should be greater than or equal to {ge}",
}


def errors(data: Any) -> list[dict[str, Any]]:
    """pydantic-style error dicts (`loc`, `type`, `msg`, `ctx` when any) for one document."""
    out: list[dict[str, Any]] = []
    _model(ROOT, data, (), out)
    return out


def allowed_keys(loc: Loc) -> list[str]:
    """The keys the mapping at `loc` may hold ([] when `loc` is not a known mapping)."""
    name: str | None = ROOT
    for part in loc:
        if isinstance(part, int) or name is None:
            continue
        spec = next((s for key, _, s in MODELS[name] if key == part), None)
        name = _model_name(spec) if spec is not None else None
    return [key for key, _, _ in MODELS[name]] if name is not None else []


def _model_name(spec: Spec) -> str | None:
    while spec[0] in ("nullable", "list"):
        spec = spec[1]
    return spec[1] if spec[0] == "model" else None


def _error(out: list[dict[str, Any]], loc: Loc, kind: str, **ctx: Any) -> None:
    error: dict[str, Any] = {"loc": loc, "type": kind, "msg": _MESSAGES[kind].format(**ctx)}
    if ctx:
        error["ctx"] = ctx
    out.append(error)


def _loc_item(key: Any) -> int | str:
    # pydantic's rendering of a mapping key that is not a string.
    if isinstance(key, bool):
        return int(key)
    return key if isinstance(key, int | str) else repr(key)


def _model(name: str, value: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        _error(out, loc, "model_type", class_name=name)
        return
    for key, required, spec in MODELS[name]:
        if key in value:
            _value(spec, value[key], (*loc, key), out)
        elif required:
            _error(out, (*loc, key), "missing")
    fields = FIELDS[name]
    for key in value:
        if key in fields:
            continue
        if isinstance(key, str):
            _error(out, (*loc, key), "extra_forbidden")
        else:
            _error(out, (*loc, _loc_item(key)), "invalid_key")


def _value(spec: Spec, value: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    kind = spec[0]
    if kind == "nullable":
        if value is not None:
            _value(spec[1], value, loc, out)
    elif kind == "str":
        if not isinstance(value, str):
            _error(out, loc, "string_type")
    elif kind == "bool":
        if not isinstance(value, bool):
            _error(out, loc, "bool_type")
    elif kind == "int" or kind == "integral":
        if kind == "integral" and isinstance(value, float) and value.is_integer():
            value = int(value)  # as models.integral() reads it
        if isinstance(value, int) and not isinstance(value, bool):
            _bounds(value, spec[1], spec[2], loc, out)
        else:
            _error(out, loc, "int_type")
    elif kind == "float":
        _number(spec, value, loc, out)
    elif kind == "literal":
        if not (isinstance(value, str) and value in spec[1]):
            _error(out, loc, "literal_error", expected=spec[2])
    elif kind == "list":
        _list(spec[1], value, loc, out)
    elif kind == "dict":
        _dict(value, loc, out)
    elif kind == "model":
        _model(spec[1], value, loc, out)


def _number(spec: Spec, value: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _error(out, loc, "float_type")
        return
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float: pydantic calls it no number at all
        _error(out, loc, "float_type")
        return
    le, ge = spec[1], spec[2]
    _bounds(number, None if le is None else float(le), None if ge is None else float(ge), loc, out)


def _bounds(value: float, le: Any, ge: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    # `not <=` rather than `>`, so that NaN fails like it does in pydantic.
    if le is not None and not value <= le:
        _error(out, loc, "less_than_equal", le=le)
    elif ge is not None and not value >= ge:
        _error(out, loc, "greater_than_equal", ge=ge)


def _list(item: Spec, value: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    if not isinstance(value, list):
        _error(out, loc, "list_type")
        return
    for index, element in enumerate(value):
        _value(item, element, (*loc, index), out)


def _dict(value: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    if not isinstance(value, dict):
        _error(out, loc, "dict_type")
        return
    for key in value:
        if not isinstance(key, str):
            _error(out, (*loc, _loc_item(key), "[key]"), "string_type")
