"""Callback names for `validate`, read from the modules' source files: nothing is imported.

A pull request can add both a `callbacks = ["evil"]` configuration and `evil.py`; linting it must
not run it. So the module's file is found on the same search path an import would use (the
configuration's folder, the current folder, then `sys.path`), without importing any package on
the way, and only parsed (core/callbacks.py). Only the commands that execute or steer instances
import callbacks (adapters/callbacks.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ..core.callbacks import StaticCallbacks, Uncheckable, answers_to, names_in_source

# A callback module bigger than this is not read (it would be parsed once per process).
_MAX_SOURCE_BYTES = 5 * 1024 * 1024


@lru_cache(maxsize=16)
def static_callbacks(modules: tuple[str, ...], folder: str | None) -> StaticCallbacks | None:
    """What the configured modules define, or None when none are configured."""
    if not modules:
        return None
    roots = [r for r in (folder, os.getcwd(), *sys.path) if r is not None]
    names: set[str] = set()
    unchecked: list[tuple[str, str]] = []
    for module in modules:
        try:
            own = names_in_source(_source(module, roots))
        except Uncheckable as why:
            unchecked.append((_module_name(module), str(why)))
            continue
        names |= set(answers_to(_module_name(module), own))
    return StaticCallbacks(frozenset(names), tuple(unchecked))


def _module_name(module: str) -> str:
    """The name the module is imported as: a `.py` path's file name without the suffix."""
    return Path(module).stem if module.endswith(".py") else module


def _source(module: str, roots: Iterable[str]) -> bytes:
    path = find_module_file(module, roots)
    if path is None:
        raise Uncheckable("no source file was found for it")
    try:
        if path.stat().st_size > _MAX_SOURCE_BYTES:
            raise Uncheckable(f"its source {path} is too large to read")
        return path.read_bytes()
    except OSError as exc:
        raise Uncheckable(f"its source {path} cannot be read: {exc.strerror or exc}") from None


def find_module_file(module: str, roots: Iterable[str]) -> Path | None:
    """The file an import of `module` would run (`a/b.py` or `a/b/__init__.py` under a root),
    or a `.py` path as given; found without importing anything."""
    if module.endswith(".py"):
        return Path(module) if os.path.isfile(module) else None
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    for root in roots:
        base = Path(root or ".").joinpath(*parts)
        for candidate in (base / "__init__.py", base.with_name(base.name + ".py")):  # as import
            if candidate.is_file():
                return candidate
    return None
