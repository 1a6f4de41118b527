"""Callback names that resolve to nothing (docs/semantics.md section 7): a warning at validation.

Checked only when the project configures callback modules (`callbacks = [...]`): without them
there is nothing to resolve names against. The names come from reading the modules' source
(never from running it); a module that cannot be read that way is reported once, and then no name
is called unknown, since it might define any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..callbacks import CALLBACK_KINDS, StaticCallbacks
from ..document import Document
from ..findings import DocPath, Finding
from .walk import did_you_mean

KINDS = CALLBACK_KINDS


def callback_names(data: Any) -> list[str]:
    """Every callback name a strategy document uses, once per reference."""
    return [name for _, name in _names(data, ())]


def check_callbacks(doc: Document, callbacks: StaticCallbacks | None) -> Iterator[Finding]:
    named = list(_names(doc.data, ()))
    if callbacks is None or not named:
        return
    first = named[0][0]
    for module, why in callbacks.unchecked:
        yield doc.finding(
            "unchecked-callbacks",
            first,
            f"callbacks of {module} cannot be checked without running it",
            hint=f"{why}; validate never imports callback modules",
        )
    if callbacks.unchecked:
        return
    known = callbacks.names
    for path, name in named:
        if name not in known:
            yield doc.finding(
                "unknown-callback",
                path,
                f"callback '{name}' is not defined in the configured callback modules",
                hint=did_you_mean(name, known) or "define it, or fix the name",
            )


def _names(value: Any, path: DocPath) -> Iterator[tuple[DocPath, str]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            if key in KINDS and isinstance(sub, str):
                yield (*path, key), sub
            else:
                yield from _names(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _names(sub, (*path, i))
