"""Size limits on untrusted files: the default, and sizes as people write them (`5MB`, `500k`)."""

from __future__ import annotations

import re

# A strategy file larger than this is not parsed (a one-line 5 MB JSON file is already extreme).
MAX_FILE_BYTES = 5 * 1024 * 1024

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SIZE = re.compile(r"\s*(\d{1,15})\s*([kmg]?)(?:i?b)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """`5242880`, `500k`, `500KB`, `5MB`, `5MiB`, `1g` -> bytes (k, M, G are powers of 1024).
    Raises ValueError for anything else, or for zero."""
    m = _SIZE.fullmatch(text)
    if m is None or int(m.group(1)) == 0:
        raise ValueError(f"'{text}' is not a size: write bytes, or a number with k, MB or GB")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def format_size(size: int) -> str:
    """Bytes as a person reads them: `812 bytes`, `500 KiB`, `5.2 MiB`."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
