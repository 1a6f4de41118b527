"""`loads_limited`: JSON as json.loads reads it, except what the rest of the tool cannot use."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy_cli.core.jsontext import MAX_DEPTH, JsonLimitError, check_value, loads_limited


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_reads_what_json_reads() -> None:
    text = '{"a": [1, 2.5, "x", null, true, {"b": "\\u00e9"}]}'
    assert loads_limited(text) == json.loads(text)
    assert loads_limited(text.encode()) == json.loads(text)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_a_limit_error(depth: int) -> None:
    with pytest.raises(JsonLimitError, match=f"more than {MAX_DEPTH} levels"):
        loads_limited(nested(depth))


def test_depth_up_to_the_limit_is_read() -> None:
    assert loads_limited(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
    with pytest.raises(JsonLimitError):
        loads_limited('{"a":' * MAX_DEPTH + "{}" + "}" * MAX_DEPTH)


def test_integer_beyond_the_str_to_int_limit() -> None:
    with pytest.raises(JsonLimitError, match="too many digits"):
        loads_limited('{"n": ' + "9" * 5000 + "}")


@pytest.mark.parametrize("text", ['"\\ud800"', '{"\\udfff": 1}', '["a\\udc80b"]'])
def test_lone_surrogates(text: str) -> None:
    with pytest.raises(JsonLimitError, match="lone surrogate"):
        loads_limited(text)


def test_a_surrogate_pair_is_one_character() -> None:
    assert loads_limited('"\\ud83d\\ude00"') == "\U0001f600"


def test_syntax_errors_stay_json_decode_errors() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_limited("{bad")
    with pytest.raises(UnicodeDecodeError):
        loads_limited(b'"\xff"')


def test_check_value_walks_without_recursion() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(JsonLimitError):
        check_value(value)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_text_is_a_value_or_a_value_error(text: str | bytes) -> None:
    with contextlib.suppress(ValueError):
        loads_limited(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=20,
)


def depth_of(value: Any) -> int:
    """Containers on the deepest path (a scalar has none): the reference, written plainly."""
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(json_values, st.integers(0, 6), st.booleans())
def test_limits_agree_with_a_plain_reference(value: Any, extra: int, as_bytes: bool) -> None:
    """Wrapped `extra` levels deeper, with a limit around its depth: read exactly when within."""
    for _ in range(extra):
        value = [value]
    limit = max(1, depth_of(value) + (extra % 3) - 1)
    text = json.dumps(value, ensure_ascii=extra % 2 == 0)
    source: str | bytes = text.encode() if as_bytes else text
    if depth_of(value) > limit:
        with pytest.raises(JsonLimitError):
            loads_limited(source, limit)
    else:
        assert loads_limited(source, limit) == value


@settings(max_examples=100, deadline=None)
@given(json_values, st.integers(0xD800, 0xDFFF), st.booleans())
def test_a_lone_surrogate_anywhere_is_found(value: Any, code: int, as_key: bool) -> None:
    lone = chr(code)
    holder = {lone: value} if as_key else {"v": [value, f"x{lone}y"]}
    text = json.dumps(holder)  # \\udXXX escapes
    with pytest.raises(JsonLimitError, match="lone surrogate"):
        loads_limited(text)
    with pytest.raises(JsonLimitError, match="lone surrogate"):
        loads_limited(json.dumps(holder, ensure_ascii=False))  # the character itself
