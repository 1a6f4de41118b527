"""The wall clock, in one place (the core is pure and is always given "now").

Modules import `utcnow` by name, so a test moves one caller's clock by patching that module's
attribute (tests/servers.py Clock patches `strategy_cli.adapters.runner.utcnow`).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_seconds() -> datetime:
    """Now, to the second: what records store (RFC 3339 without fractions)."""
    return utcnow().replace(microsecond=0)
