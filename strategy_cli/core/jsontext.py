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
    check_value(value, max_depth)
    return value


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise `JsonLimitError` if a parsed value nests deeper than `max_depth` or holds a lone
    surrogate. Iterative: a value too deep to walk recursively is exactly what it looks for."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise JsonLimitError(f"nested more than {max_depth} levels deep")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            raise JsonLimitError(
                f"a string holds \\u{ord(found.group()):04x}, a lone surrogate (not a character)"
            )
