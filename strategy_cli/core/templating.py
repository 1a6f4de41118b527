"""`{{ path }}` references in action strings (docs/semantics.md section 8): data lookups only.

A string that is exactly one reference keeps the referenced value's JSON type; references inside
a longer string are substituted as text. No code runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

ROOTS = frozenset({"attributes", "instance", "event", "steps", "env"})
_REF = re.compile(r"\{\{(.*?)\}\}")
_TOKEN = re.compile(r"\s*(?:([A-Za-z_$][\w$-]*)|\[(\d+)\])\s*")
# `${env:NAME}` in a strategy's own strings: resolved from the environment at run time.
ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    """A reference that is malformed or does not resolve; the message names it."""


def parse_ref(expr: str) -> list[str | int]:
    """'steps.charge.data.items[0]' -> ['steps', 'charge', 'data', 'items', 0]."""
    tokens: list[str | int] = []
    pos, expr = 0, expr.strip()
    while pos < len(expr):
        if tokens and expr[pos] == ".":
            pos += 1
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"malformed reference '{{{{ {expr} }}}}'")
        tokens.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not tokens or not isinstance(tokens[0], str):
        raise TemplateError(f"malformed reference '{{{{ {expr} }}}}'")
    return tokens


def refs_in(
    value: Any, pattern: re.Pattern[str] = _REF
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location inside value, reference) for every {{ }} (or other `pattern`, its first group)
    in a nested value."""
    if isinstance(value, str):
        for m in pattern.finditer(value):
            yield (), m.group(1)
    elif isinstance(value, dict):
        for k, v in value.items():
            for loc, expr in refs_in(v, pattern):
                yield (k, *loc), expr
    elif isinstance(value, list):
        for i, v in enumerate(value):
            for loc, expr in refs_in(v, pattern):
                yield (i, *loc), expr


def env_refs(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location inside value, variable name) for every `${env:NAME}` in a nested value."""
    return refs_in(value, ENV_REF)


def lookup(context: Mapping[str, Any], tokens: list[str | int]) -> Any:
    cur: Any = context
    for i, tok in enumerate(tokens):
        try:
            cur = cur[tok]
        except (KeyError, IndexError, TypeError):
            shown = ".".join(str(t) for t in tokens[: i + 1])
            raise TemplateError(
                f"reference '{{{{ {_show(tokens)} }}}}' does not resolve ({shown})"
            ) from None
    return cur


def render(value: Any, context: Mapping[str, Any], lenient: frozenset[str] = frozenset()) -> Any:
    """Substitute every reference in a nested value. A reference under a `lenient` root that
    does not resolve stays as written (a simulation has no real response data)."""
    if isinstance(value, dict):
        return {k: render(v, context, lenient) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context, lenient) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    whole = _REF.fullmatch(value.strip())
    if whole:
        return _resolve(context, whole.group(0), whole.group(1), lenient)
    return _REF.sub(lambda m: _as_text(_resolve(context, m.group(0), m.group(1), lenient)), value)


def _resolve(context: Mapping[str, Any], raw: str, expr: str, lenient: frozenset[str]) -> Any:
    tokens = parse_ref(expr)
    try:
        return lookup(context, tokens)
    except TemplateError:
        if tokens[0] in lenient:
            return raw
        raise


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), default=str)


def _show(tokens: list[str | int]) -> str:
    out = ""
    for t in tokens:
        out += f"[{t}]" if isinstance(t, int) else (f".{t}" if out else t)
    return out
