"""Lint many files in one process (or two, when there are many): one bad file never stops the rest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..core.document import Document
from ..core.findings import Finding
from ..core.lint import lint_document
from .config import config_for
from .files import STDIN
from .stdin import read_stdin
from .yamlsource import load_bytes, load_path

# Below this many files a worker pool costs more to start than it saves.
_PARALLEL_THRESHOLD = 64


@dataclass
class FileReport:
    file: str
    findings: list[Finding] = field(default_factory=list)
    document: Document | None = None
    error: str | None = None  # the file could not be read at all (a usage problem: exit 2)


def lint_file(name: str, stdin_name: str | None = None) -> FileReport:
    if name == STDIN:
        display = stdin_name or "<stdin>"
        doc = load_bytes(read_stdin(), display, is_json=display.endswith(".json"))
        config = config_for(Path(stdin_name or "."))
    else:
        try:
            doc = load_path(Path(name), name)
        except OSError as exc:
            return FileReport(name, error=f"{name}: cannot read: {exc.strerror or exc}")
        config = config_for(Path(name))
    folder = str(config.path.parent) if config.path else None
    findings = lint_document(doc, config.policy(), _callback_names(config.callbacks, folder))
    return FileReport(name if name != STDIN else doc.file, findings, doc)


@lru_cache(maxsize=16)
def _callback_names(modules: tuple[str, ...], folder: str | None) -> frozenset[str] | None:
    """Names the configured callback modules define; None when none are configured."""
    if not modules:
        return None
    from .callbacks import load_callbacks

    return frozenset(load_callbacks(modules, search=[folder] if folder else []).known())


def _lint_quiet(name: str) -> FileReport:
    report = lint_file(name)
    report.document = None  # the parent only needs findings; keep the pickles small
    return report


def lint_files(names: list[str], stdin_name: str | None = None) -> Iterator[FileReport]:
    """Reports in input order."""
    workers = min(os.cpu_count() or 1, 4)
    if len(names) < _PARALLEL_THRESHOLD or workers < 2 or STDIN in names:
        for name in names:
            yield lint_file(name, stdin_name)
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(names) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_lint_quiet, names, chunksize=chunk)
