"""`strategy apply`, `strategy list`, `strategy show`: strategies in the local store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import StrategyError
from .common import DbOption, FormatOption, MaxFileSizeOption, ReadFormat, max_file_bytes


def apply(
    files: Annotated[list[Path], typer.Argument(help="Strategy files to store.")],
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
    max_file_size: MaxFileSizeOption = None,
) -> int:
    """Validate and store strategies.

    Changed settings make a new version; the same file again is a no-op.

    Example: strategy apply sample-strategies/loan-collection.yaml
    """
    from ..adapters.operations import public_strategy
    from ..adapters.strategies import apply_strategy, load_strategy_file
    from .common import open_store
    from .console import out, shown, write_json

    limit = max_file_bytes(max_file_size)
    loaded = [load_strategy_file(f, limit) for f in files]  # any invalid file stops before writing
    results = []
    with open_store(db) as store, store.transaction():
        for item in loaded:
            record, outcome = apply_strategy(store, item)
            results.append((record, outcome))
    _say_version_differences(files, loaded, results)
    if format is ReadFormat.json:
        write_json([{"outcome": o, "strategy": public_strategy(r)} for r, o in results])
        return 0
    words = {"created": "created", "new-version": "new version", "unchanged": "unchanged (no-op)"}
    for record, outcome in results:
        out().print(
            shown(
                f"{record['name']}: {words[outcome]}, version {record['version']} (sid {record['sid']})"
            ),
            soft_wrap=True,
        )
    return 0


def _say_version_differences(files: list[Path], loaded: list[Any], results: list[Any]) -> None:
    """The store numbers versions itself (1, 2, ... per name, in apply order): a file whose own
    `version` says otherwise is told so, once, rather than left to believe its number stuck."""
    from .console import err, line

    for path, item, (record, _) in zip(files, loaded, results, strict=True):
        written = (item.document.data or {}).get("version") if item.document else None
        if isinstance(written, int | float) and written != record["version"]:
            said = f"{written:g}"
            err().print(
                line(
                    "note: ",
                    str(path),
                    " says version ",
                    said,
                    f"; the store numbered it version {record['version']} (versions count "
                    "applies of changed settings; see docs/semantics.md, section 11)",
                ),
                soft_wrap=True,
            )


def list_strategies(db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """List stored strategies (latest version of each name).

    Example: strategy list --format json
    """
    from rich.box import SIMPLE_HEAD
    from rich.table import Table

    from ..adapters.operations import public_strategy
    from .common import open_store, zone_of_record
    from .console import out, shown, write_json
    from .datetimes import human_time

    with open_store(db) as store:
        rows = store.list_strategies()
    if format is ReadFormat.json:
        write_json([{**public_strategy(r), "versions": r.get("versions", 1)} for r in rows])
        return 0
    table = Table(header_style="bold", box=SIMPLE_HEAD, pad_edge=False)
    for col in ("name", "version", "versions", "sid", "updated"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(
            shown(r["name"]),
            shown(r["version"]),
            shown(r.get("versions", 1)),
            shown(r["sid"][:8]),
            human_time(r["updatedAt"], zone_of_record(r), named=False)
            if r.get("updatedAt")
            else "-",
        )
    out().print(table if rows else "no strategies stored; add one with `strategy apply FILE`")
    return 0


def show(
    name: Annotated[str, typer.Argument(help="Strategy name or sid.")],
    version: Annotated[
        int | None, typer.Option("--version", "-v", help="Version (default latest).")
    ] = None,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
) -> int:
    """Show a stored strategy.

    Example: strategy show loan-collection --version 2 --format json
    """
    from ..adapters.operations import public_strategy
    from .common import open_store
    from .console import print_yaml, write_json

    with open_store(db) as store:
        record = store.get_strategy(name, version)
        known = [r["name"] for r in store.list_strategies()] if record is None else []
        versions = [r["version"] for r in store.strategy_versions(name)] if record is None else []
    if record is None:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        which = f" version {version}" if version is not None else ""
        hint = f"did you mean '{close[0]}'?" if close else "see `strategy list`"
        if versions:  # the name is stored, not that version
            hint = f"stored versions of '{name}': {', '.join(map(str, versions))}"
        raise StrategyError(f"no strategy '{name}'{which} in the store", hint=hint)
    shown = public_strategy(record)
    if format is ReadFormat.json:
        write_json(shown)
    else:
        print_yaml(shown)
    return 0


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.command("list")(list_strategies)
    app.command("show")(show)
