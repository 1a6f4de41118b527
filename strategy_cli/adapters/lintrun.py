"""Lint many files in one process (or two, when there are many): one bad file never stops the rest."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..core.document import Document
from ..core.findings import Finding
from ..core.limits import MAX_FILE_BYTES
from ..core.lint import lint_document
from ..core.lint.callbacks import callback_names
from .callback_source import static_callbacks
from .config import ProjectConfig, config_for
from .files import STDIN
from .stdin import read_stdin
from .yamlsource import file_problem, load_path, load_stream, unreadable

# Below this many files a worker pool costs more to start than it saves.
_PARALLEL_THRESHOLD = 64


@dataclass
class FileReport:
    file: str
    findings: list[Finding] = field(default_factory=list)
    document: Document | None = None
    # Callback names the file uses that nothing could check: no callback modules configured.
    unchecked_callbacks: int = 0


def lint_file(
    name: str, stdin_name: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> FileReport:
    if name == STDIN:
        display = stdin_name or "<stdin>"
        is_json = display.endswith(".json")
        # At most one byte over the limit is read: enough for load_stream to refuse it.
        doc = load_stream(io.BytesIO(read_stdin(max_bytes + 1)), display, is_json, max_bytes)
        config = config_for(Path(stdin_name or "."))
    else:
        try:
            doc = load_path(Path(name), name, max_bytes)
        except OSError as exc:  # an error finding for that file: never a silent skip
            doc = unreadable(name, exc)
        config = config_for(Path(name))
    return _report(doc, config)


def unlistable_folder(folder: str, why: str) -> FileReport:
    """A folder met while walking that cannot be listed: an error for that folder."""
    doc = file_problem(folder, "file-unreadable", why, "check its permissions")
    return _report(doc, config_for(Path(folder).parent))


def _report(doc: Document, config: ProjectConfig) -> FileReport:
    folder = str(config.path.parent) if config.path else None
    # Read, never imported: linting must not run the code of the tree it lints.
    callbacks = static_callbacks(config.callbacks, folder)
    findings = lint_document(doc, config.policy(), callbacks)
    unchecked = len(callback_names(doc.data)) if callbacks is None else 0
    return FileReport(doc.file, findings, doc, unchecked)


def _lint_quiet(name: str, max_bytes: int) -> FileReport:
    report = lint_file(name, max_bytes=max_bytes)
    report.document = None  # the parent only needs findings; keep the pickles small
    return report


def lint_files(
    names: list[str], stdin_name: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Iterator[FileReport]:
    """Reports in input order."""
    workers = min(os.cpu_count() or 1, 4)
    if len(names) < _PARALLEL_THRESHOLD or workers < 2 or STDIN in names:
        for name in names:
            yield lint_file(name, stdin_name, max_bytes)
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(names) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(partial(_lint_quiet, max_bytes=max_bytes), names, chunksize=chunk)
