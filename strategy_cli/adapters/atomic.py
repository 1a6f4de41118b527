"""Writing a file atomically: the old file or the new one, never half of either.

The text goes to a temporary file in the target's folder (same file system, so the rename is
atomic), is flushed to disk, and only then renamed over the target. A failure or Ctrl-C midway
leaves the target as it was and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import StrategyError


def write_atomic(path: Path, text: str, *, replace: bool = True) -> None:
    """Write `text` (UTF-8) to `path` atomically; with `replace=False` an existing file is
    never overwritten (one created meanwhile included). Errors are one-line StrategyErrors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, text.encode("utf-8"), replace)
    except FileExistsError:
        raise StrategyError(f"{path}: already exists; nothing was written") from None
    except OSError as exc:
        raise StrategyError(f"{path}: cannot write: {_reason(exc)}") from None


def _write(path: Path, data: bytes, replace: bool) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _keep_mode(path, temp)
        if replace:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if `path` exists: the no-overwrite rename
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    _sync_folder(path.parent)


def _keep_mode(path: Path, temp: str) -> None:
    """The new file gets the old one's permissions, or the usual ones (mkstemp makes 0600)."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _sync_folder(folder: Path) -> None:
    # The rename itself is durable only once the folder is flushed; not every system allows it.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return "disk is full"
    return exc.strerror or str(exc)
