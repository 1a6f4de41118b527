"""`strategy doctor`: what is installed, where the store is, and whether it opens."""

from __future__ import annotations

from typing import Any

import typer

from .common import DbOption, FormatOption, ReadFormat


def doctor(db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Check the installation and the store.

    Prints versions, the store path and schema version, config files found. The store check is SQLite's full integrity check: exit 1, with one line per problem, when
    the store cannot be opened or is corrupt.

    Example: strategy doctor --format json
    """
    report = _report(db)
    if format is ReadFormat.json:
        from .console import write_json

        write_json(report)
    else:
        _print(report)
    return 0 if report["store"]["ok"] else 1


def _report(db: str | None) -> dict[str, Any]:
    import platform
    import sys
    from importlib import metadata
    from pathlib import Path

    from .. import __version__
    from ..adapters.config import config_for
    from ..adapters.platform import config_path

    versions: dict[str, str | None] = {"strategy": __version__, "python": platform.python_version()}
    for dist in (
        "typer",
        "rich",
        "pydantic",
        "httpx",
        "pyyaml",
        "sqlite-utils",
        "jtd",
        "icalendar",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    project = config_for(Path.cwd())
    return {
        "versions": versions,
        "executable": sys.executable,
        "store": _store(db),
        "config": {
            "project": str(project.path) if project.path else None,
            "profiles": str(config_path()) if config_path().is_file() else None,
        },
    }


def _store(db: str | None) -> dict[str, Any]:
    from pathlib import Path

    from ..adapters.store_location import default_store_path, store_location
    from ..errors import StrategyError
    from .common import open_store

    path = store_location(db)
    if path != ":memory:" and not Path(path).exists():
        return {
            "path": path,
            "schemaVersion": None,
            "ok": True,
            "instances": 0,
            "error": None,
            "problems": [],
            "readOnly": False,
            "note": "not created yet: the first command that writes creates it",
        }
    try:
        with open_store(db) as store:
            # the file's own integrity first; a sound file may still hold records
            # edited by hand, which no command could use
            problems = store.problems() or store.damaged_records()
            return {
                "path": str(store.path),
                "schemaVersion": store.schema_version,
                "ok": not problems,
                "instances": None if problems else _count(store),
                "error": f"store is corrupt ({len(problems)} problem(s))" if problems else None,
                "problems": problems,
                "readOnly": store.readonly,
            }
    except StrategyError as exc:
        return {
            "path": db or str(default_store_path()),
            "schemaVersion": None,
            "ok": False,
            "instances": None,
            "error": exc.message,
            "problems": [],
            "readOnly": None,
        }


def _count(store: Any) -> int:
    return int(store.conn.execute("SELECT count(*) FROM instances").fetchone()[0])


def _print(report: dict[str, Any]) -> None:
    from rich.table import Table

    from .console import line, out, shown

    console = out()
    table = Table(show_header=False, box=None, padding=(0, 2))
    for name, version in report["versions"].items():
        table.add_row(shown(name), shown(version) if version else shown("not installed", "red"))
    console.print(table)
    store = report["store"]
    if store.get("note"):
        mark = shown(store["note"])
    elif store["problems"]:
        mark = shown(store["error"], "red")
    elif store["ok"]:
        mark = shown("ok", "green")
    else:
        mark = line(("cannot open", "red"), f": {store['error']}")
    if store.get("readOnly"):
        mark.append(" (read-only)")
    where = shown(f"store: {store['path']} (schema {store['schemaVersion']}) ")
    console.print(where + mark, soft_wrap=True)
    for problem in store["problems"]:
        console.print(shown(f"  problem: {problem}"), soft_wrap=True)
    for key, label in (("project", "project config"), ("profiles", "profiles")):
        console.print(shown(f"{label}: {report['config'][key] or 'none found'}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
