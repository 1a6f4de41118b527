"""Callback names that resolve to nothing (SEMANTICS.md section 5): a warning at validation.

Checked only when the project configures callback modules (`callbacks = [...]`): without them
there is nothing to resolve names against.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..callbacks import CALLBACK_KINDS
from ..document import Document
from ..findings import DocPath, Finding
from .walk import did_you_mean

KINDS = CALLBACK_KINDS


def check_callbacks(doc: Document, known: frozenset[str] | None) -> Iterator[Finding]:
    if known is None:
        return
    for path, name in _names(doc.data, ()):
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
