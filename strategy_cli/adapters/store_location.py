"""Where the store lives: resolved here only, by the CLI and by shell completion alike.

Standard library only: `strategy-complete` imports this on every TAB.
"""

from __future__ import annotations

import os
from pathlib import Path


def store_location(explicit: str | None = None) -> str:
    """`--db`, else `$STRATEGY_DB`, else `$XDG_DATA_HOME/strategy/store.db` (`~/.local/share`
    when unset or empty). A given path is returned as given (the store expands `~`), so
    messages show what the user wrote."""
    given = explicit or os.environ.get("STRATEGY_DB")
    if given:
        return given
    data_home = os.environ.get("XDG_DATA_HOME") or ""
    base = Path(data_home).expanduser() if data_home else Path.home() / ".local" / "share"
    return str(base / "strategy" / "store.db")


def default_store_path() -> Path:
    """The store used without `--db`, `~` expanded."""
    return Path(store_location()).expanduser()
