"""Text from files, the store, the environment or the network, made safe to show as it is.

Such text is data: a terminal must never act on it. Control characters (C0, DEL, C1: escape
sequences, OSC titles and hyperlinks, carriage returns that overwrite a line), line and paragraph
separators, bidirectional overrides (which reorder what the reader sees) and lone surrogates (which
cannot be encoded) are shown as escapes instead: `\\x1b`, `\\n`, `\\u202e`. Everything else,
backslashes included, is left as it is, so ordinary text reads the same.

The set of such characters is defined here once; human output and JSON output escape the same set.
"""

from __future__ import annotations

import re

# DEL and C1 controls; the ALM, LRM/RLM, LRE..RLO and LRI..PDI bidi controls; the line and
# paragraph separators; lone surrogates (from undecodable bytes in names and paths).
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_SINGLE_LINE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
# A block meant to span lines (a YAML document, a source excerpt) keeps its newlines and tabs.
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]")
# JSON text escapes C0 controls itself, and its own newlines (indentation) are not data.
_IN_JSON = re.compile(f"[{_BEYOND_C0}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def literal(text: str, *, multiline: bool = False) -> str:
    """`text` with every character a terminal could act on shown as an escape.

    One-line fields (names, messages, paths) escape newlines too, so no text can start a forged
    line; `multiline=True` keeps newlines and tabs for blocks meant to span lines.
    """
    pattern = _MULTI_LINE if multiline else _SINGLE_LINE
    return pattern.sub(_shown, text) if pattern.search(text) else text


def json_escaped(dumped: str) -> str:
    """JSON text (from json.dumps) with the same characters as \\uXXXX escapes.

    json.dumps escapes C0 controls itself; with ensure_ascii=False it leaves DEL, C1 controls, bidi
    controls and separators raw. Escaped, the document still decodes to the exact same values.
    """
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped  # the usual case, without a scan: isascii() is free on CPython's strings
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
