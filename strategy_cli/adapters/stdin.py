"""Standard input as bytes, for `-` arguments: closed or unreadable stdin is a usage error."""

from __future__ import annotations

import sys

from ..errors import UsageError


def read_stdin(name: str = "-") -> bytes:
    """All of standard input. `name` is what the user typed for it (for the message)."""
    stream = sys.stdin
    if stream is None:  # started with stdin closed (`<&-`)
        raise UsageError(f"{name}: standard input is closed", hint="pipe the file in: < FILE")
    try:
        buffer = getattr(stream, "buffer", None)
        data = buffer.read() if buffer is not None else stream.read()
    except UnicodeDecodeError:  # a text-only stream (no buffer) with bytes that are not UTF-8
        raise UsageError(f"{name}: standard input is not UTF-8 text") from None
    except (OSError, ValueError) as exc:  # ValueError: a closed file object
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"{name}: cannot read standard input: {reason}") from None
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
