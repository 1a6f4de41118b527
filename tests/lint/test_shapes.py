"""The shape checker and pydantic give the same verdict on every document.

`strategy validate` checks shapes with strategy_cli/core/shapes.py and a table generated from the
models (scripts/gen_shapes.py), so that it need not import pydantic. These tests hold the two
together: the table is fresh, and for documents drawn near the models' shape (each value right,
wrong in type, out of bounds, missing, renamed or extra) both report the same errors, in the same
order, with the same `loc`, `type` and `ctx`.
"""

from __future__ import annotations

import datetime
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from strategy_cli.core import shapes
from strategy_cli.core.models import StrategyFile
from strategy_cli.core.shape_table import MODELS, ROOT

REPO = Path(__file__).resolve().parents[2]


def pydantic_errors(data: Any) -> list[tuple[Any, ...]]:
    try:
        StrategyFile.model_validate(data)
    except ValidationError as exc:
        return [comparable(e) for e in exc.errors(include_url=False)]
    return []


def shape_errors(data: Any) -> list[tuple[Any, ...]]:
    return [comparable(e) for e in shapes.errors(data)]


def comparable(error: Any) -> tuple[Any, ...]:
    # Typed, so that a loc of True does not pass for 1, nor a bound of 5000 for 5000.0.
    loc = tuple((type(part).__name__, part) for part in error["loc"])
    ctx = {k: (type(v).__name__, v) for k, v in (error.get("ctx") or {}).items()}
    return loc, error["type"], ctx


def test_table_is_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_shapes.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_samples_have_no_shape_errors(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert shape_errors(data) == pydantic_errors(data) == []


ODD_VALUES = (
    [
        None, True, False, 0, -1, 1, 7, 25, 5000, 5001, 10**400, -(10**400), 1.5, -0.5,
        math.nan, math.inf, "", "x", "days", "get", "onError", [], [1], {}, {"a": 1},
        datetime.date(2024, 2, 29), b"bytes", ("t",),
    ]
)  # fmt: skip
ODD_KEY_VALUES = [1, True, None, 1.5, datetime.date(2024, 1, 1), "extra", "from_", "async_"]
ODD = st.sampled_from(ODD_VALUES)
ODD_KEYS = st.sampled_from(ODD_KEY_VALUES)


def value_for(spec: tuple[Any, ...], depth: int) -> st.SearchStrategy[Any]:
    """Mostly a right value for `spec`, sometimes an odd one."""
    return st.one_of(right_value(spec, depth), ODD) if depth < 6 else ODD


def right_value(spec: tuple[Any, ...], depth: int) -> st.SearchStrategy[Any]:
    kind = spec[0]
    if kind == "nullable":
        return st.none() | value_for(spec[1], depth)
    if kind == "str":
        return st.text(max_size=5)
    if kind == "bool":
        return st.booleans()
    if kind in ("int", "float"):
        ints = st.integers(-3, 5100)
        return ints | st.floats(allow_nan=True) if kind == "float" else ints
    if kind == "literal":
        return st.sampled_from(spec[1])
    if kind == "list":
        return st.lists(value_for(spec[1], depth + 1), max_size=3)
    if kind == "dict":
        return st.dictionaries(st.text(max_size=3) | ODD_KEYS, st.integers(), max_size=3)
    if kind == "model":
        return model_value(spec[1], depth + 1)
    return ODD


def model_value(name: str, depth: int) -> st.SearchStrategy[dict[Any, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, required, spec in MODELS[name]:
            presence = draw(st.sampled_from(["key", "key", "key", "absent"]))
            if presence == "absent" and (not required or draw(st.booleans())):
                continue
            out[key] = draw(value_for(spec, depth))
        for extra in draw(st.lists(ODD_KEYS, max_size=2)):
            out[extra] = draw(ODD)
        return out

    return build()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_value(ROOT, 0) | ODD)
def test_same_errors_as_pydantic(data: Any) -> None:
    assert shape_errors(data) == pydantic_errors(data)


def paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += paths(value, (*path, index))
    return out


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = replaced(data[path[0]], path[1:], value)
    return copy


def removed(data: Any, path: tuple[Any, ...]) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if not isinstance(parent, dict):
        return data
    return replaced(data, path[:-1], {k: v for k, v in parent.items() if k != path[-1]})


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_node_of_a_sample_made_odd(path: Path) -> None:
    """Each node of a sample in turn: replaced by each odd value, removed, given an odd key."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for where in paths(data):
        variants = [replaced(data, where, odd) for odd in ODD_VALUES]
        variants += [removed(data, where)] if where else []
        node = replaced(data, (), data)
        for part in where:
            node = node[part]
        if isinstance(node, dict):
            variants += [replaced(data, where, {**node, key: 1}) for key in ODD_KEY_VALUES]
        for variant in variants:
            assert shape_errors(variant) == pydantic_errors(variant), where


@pytest.mark.parametrize(
    "loc, keys",
    [
        ((), ["name", "description", "version", "secret", "settings", "sid", "createdAt"]),
        (("settings", "tasks", 0, "steps", 2), ["key", "description", "retryConfig"]),
        (("settings", "schedule", "calendars", 1, "scheduleAfter"), ["unit", "amount", "from"]),
        (("settings", "nope"), []),
        (("settings", "config", "instanceValidation"), []),
    ],
)
def test_allowed_keys(loc: tuple[Any, ...], keys: list[str]) -> None:
    assert shapes.allowed_keys(loc)[: len(keys)] == keys


@pytest.mark.parametrize(
    "path, value, kind",
    [
        (("settings", "tasks", 0, "steps", 0, "final"), "yes", "bool_type"),
        (("settings", "schedule", "calendars", 0, "scheduleAfter", "amount"), 1.5, "int_type"),
        (("settings", "config", "requestDelayTime"), "100", "float_type"),
    ],
)
def test_types_are_strict(path: tuple[Any, ...], value: Any, kind: str) -> None:
    """docs/semantics.md (section 12): `final: "yes"` or `amount: 1.5` are findings, not coerced."""
    data = yaml.safe_load((SAMPLES / "loan-collection.yaml").read_text(encoding="utf-8"))
    found = shape_errors(replaced(data, path, value))
    assert found == pydantic_errors(replaced(data, path, value))
    assert [(loc, k) for loc, k, _ in found] == [(tuple((type(p).__name__, p) for p in path), kind)]
