"""Standard input as bytes, for `-` arguments: closed or unreadable stdin is a usage error."""

from __future__ import annotations

import sys

from ..errors import UsageError


def read_stdin(limit: int = -1, name: str = "-") -> bytes:
    """Standard input, up to `limit` bytes (all of it by default). `name` is what the user
    typed for it, for the message."""
    stream = sys.stdin
    if stream is None:  # started with stdin closed (`<&-`)
        raise UsageError(f"{name}: standard input is closed", hint="pipe the file in: < FILE")
    try:
        buffer = getattr(stream, "buffer", None)
        data = buffer.read(limit) if buffer is not None else stream.read(limit)
    except UnicodeDecodeError:  # a text-only stream (no buffer) with bytes that are not UTF-8
        raise UsageError(f"{name}: standard input is not UTF-8 text") from None
    except (OSError, ValueError) as exc:  # ValueError: a closed file object
        reason = getattr(exc, "strerror", None) or exc
        raise UsageError(f"{name}: cannot read standard input: {reason}") from None
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
