"""Expanding the paths given on the command line into the strategy files to read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


def expand(inputs: list[str]) -> Iterator[str]:
    """Files as given, folders walked for *.yaml, *.yml, *.json (sorted); `-` kept for stdin."""
    for raw in inputs:
        if raw == STDIN:
            yield raw
            continue
        path = Path(raw)
        if path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*")) if _wanted(p))
        elif path.is_file():
            yield raw
        else:
            raise UsageError(f"{raw}: no such file or directory")


def _wanted(path: Path) -> bool:
    hidden = any(part.startswith(".") and part not in (".", "..") for part in path.parts)
    return path.suffix in SUFFIXES and path.is_file() and not hidden
