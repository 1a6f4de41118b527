"""JSON text from users, files, the store and the network, parsed within limits.

`json.loads` accepts what the rest of the tool cannot handle: nesting deep enough to exhaust
Python's recursion limit in the decoder or in every walker after it, integers longer than
Python's str-to-int limit (a ValueError that is not a JSONDecodeError), and `\\ud800` escapes
that decode to lone surrogates, which no file, terminal or SQLite text can encode. Every such
input is a `JsonLimitError` (a ValueError, like a syntax error) with a one-line reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any strategy, attribute set or API response needs, and far below the recursion
# limit that JTD checks, redaction and rendering walk values with.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonLimitError(ValueError):
    """Well-formed JSON this tool refuses to process (too deep, a huge number, a surrogate)."""


def loads_limited(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, plus `JsonLimitError` for input beyond the limits above.

    Syntax errors stay `json.JSONDecodeError`; bytes that are not UTF-8 a `UnicodeDecodeError`
    (both ValueErrors, so one `except ValueError` handles every unusable text).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError(f"nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # only int(): "Exceeds the limit (4300 digits) ..."
        if "digits" not in str(exc):
            raise
        raise JsonLimitError("a number has too many digits") from None
    # Strings are only looked at when the text could hold a surrogate (a \uD800-\uDFFF escape,
    # or one already decoded, as in an argument with invalid UTF-8), and nesting only when the
    # text has enough brackets to be too deep: most texts need no walk at all.
    strings = _may_hold_surrogate(text)
    if strings or _brackets(text) > max_depth:
        check_value(value, max_depth, strings=strings)
    return value


def _brackets(text: str | bytes) -> int:
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def check_value(value: Any, max_depth: int = MAX_DEPTH, *, strings: bool = True) -> None:
    """Raise `JsonLimitError` if a parsed value nests deeper than `max_depth` or (with
    `strings`) holds a lone surrogate. Level by level, without recursion: a value too deep to
    walk recursively is exactly what it looks for."""
    level, depth = [value], 0
    while level:
        below: list[Any] = []
        for item in level:
            if isinstance(item, str):
                if strings:
                    _check_text(item)
                continue
            if not isinstance(item, dict | list):
                continue
            if depth >= max_depth:
                raise JsonLimitError(f"nested more than {max_depth} levels deep")
            children = item.values() if isinstance(item, dict) else item
            if not strings:  # only containers can nest
                below.extend(c for c in children if isinstance(c, dict | list))
                continue
            if isinstance(item, dict):
                below.extend(item)  # the keys are strings too
            below.extend(children)
        level, depth = below, depth + 1


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def _may_hold_surrogate(text: str | bytes) -> bool:
    if isinstance(text, bytes):  # UTF-8 cannot carry a surrogate: only an escape can
        return _ESCAPED_SURROGATE_BYTES.search(text) is not None
    return _ESCAPED_SURROGATE.search(text) is not None or _SURROGATE.search(text) is not None


def _check_text(text: str) -> None:
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            raise JsonLimitError(
                f"a string holds \\u{ord(found.group()):04x}, a lone surrogate (not a character)"
            )
