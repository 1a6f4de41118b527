"""The store's schema: one migration function per version, applied in order.

`PRAGMA user_version` holds the version a store is at; `MIGRATIONS[n]` takes a store from version
`n` to `n + 1`. A migration runs inside the store's write transaction (sqlite-utils nests its own
work in savepoints), so a store is never left half-migrated. Add versions by appending functions;
never edit one that has shipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

from collections.abc import Callable

# "STRT": marks a file as a strategy store (`PRAGMA application_id`).
APPLICATION_ID = 0x53545254


def _v1(db: sqlite_utils.Database) -> None:
    """Strategies (every version), instances and events."""
    table = db.table  # a Table (db[name] could also be a View, to a type checker)
    table("strategies").create(
        {"sid": str, "name": str, "version": int, "digest": str, "record": str},
        pk="sid",
        not_null=["name", "version", "record"],
    )
    table("strategies").create_index(["name", "version"], "strategies_name_version", unique=True)

    table("instances").create(
        {
            "sid": str,
            "strategy_sid": str,
            "strategy_name": str,
            "status": str,
            "simulated": int,
            "created_at": str,
            "record": str,
            "state": str,
        },
        pk="sid",
        not_null=["status", "simulated", "record"],
    )
    table("instances").create_index(["strategy_name"], "instances_strategy_name")
    table("instances").create_index(["status"], "instances_status")

    table("events").create(
        {
            "sid": str,
            "instance_sid": str,
            "status": str,
            "date_utc": str,
            "main": int,
            "simulated": int,
            "record": str,
        },
        pk="sid",
        not_null=["instance_sid", "status", "date_utc", "main", "simulated", "record"],
    )
    # Events of an instance by status and date; due events by status and date.
    table("events").create_index(
        ["instance_sid", "status", "date_utc"], "events_instance_status_date"
    )
    table("events").create_index(["status", "date_utc"], "events_status_date")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _v2(db: sqlite_utils.Database) -> None:
    """The due-events index leaves simulated events out.

    Only the runner looks events up by status and date, and it never runs a simulated event
    (its query says `simulated = 0`, which lets SQLite use the partial index). A simulated
    portfolio writes hundreds of thousands of events: keeping them out of this index makes
    writing them about a third cheaper.
    """
    db.execute("DROP INDEX events_status_date")
    db.execute("CREATE INDEX events_status_date ON events (status, date_utc) WHERE simulated = 0")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)
