"""Expanding the paths given on the command line into the strategy files to read.

A CI gate must not pass what it did not lint: a path named on the command line is always read,
hidden or not; hidden folders and files are skipped only below a named folder, and counted; a
folder that cannot be listed is reported, never skipped in silence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass
class Expansion:
    files: list[str] = field(default_factory=list)
    hidden_folders: int = 0
    hidden_files: int = 0  # hidden *.yaml, *.yml, *.json: would have been linted
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)

    @property
    def hidden(self) -> int:
        return self.hidden_folders + self.hidden_files


def expand(inputs: list[str]) -> Expansion:
    """Files as given, folders walked for *.yaml, *.yml, *.json (sorted); `-` kept for stdin."""
    found = Expansion()
    for raw in inputs:
        if raw == STDIN:
            found.files.append(raw)
        elif os.path.isdir(raw):
            _walk(raw, found)
        elif os.path.lexists(raw):
            found.files.append(raw)  # a file, or something unreadable: reading it will say
        else:
            raise UsageError(f"{raw}: no such file or directory")
    return found


def _walk(folder: str, found: Expansion) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        found.unreadable.append((folder, f"cannot list the folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = str(Path(folder) / entry.name)
        is_dir = _is_dir(entry)
        if entry.name.startswith("."):
            if is_dir:
                found.hidden_folders += 1
            elif entry.name.endswith(SUFFIXES):
                found.hidden_files += 1
        elif is_dir:
            _walk(path, found)
        elif entry.name.endswith(SUFFIXES) and _is_file_or_broken_link(entry):
            found.files.append(path)


def _is_file_or_broken_link(entry: os.DirEntry[str]) -> bool:
    """A file to read; a link to nothing too, so that reading it reports it."""
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return True


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A real folder: links to folders are not followed (no loops, no escaping the tree)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
