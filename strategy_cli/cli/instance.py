"""`strategy instance ...`: create, inspect and steer instances in the local store."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..core.domain import EventStatus, InstanceStatus
from ..errors import StrategyError, UsageError
from .common import (
    CallbacksOption,
    DbOption,
    FormatOption,
    MaxFileSizeOption,
    ReadFormat,
    checked_attributes,
    instant_option,
    json_argument,
    max_file_bytes,
    project_callbacks,
    start_option,
    zone_of,
    zone_of_record,
)
from .render_timeline import TimelineFormat

if TYPE_CHECKING:
    from rich.text import Text

app = typer.Typer(help="Create, inspect and steer instances.", no_args_is_help=True)
SidArg = Annotated[str, typer.Argument(help="Instance sid (or a unique prefix of 8+ characters).")]


class StatusChoice(StrEnum):
    """The `--status` choices: the domain's statuses, in the help's order (live ones first)."""

    ACTIVE = InstanceStatus.ACTIVE
    PAUSED = InstanceStatus.PAUSED
    CANCELED = InstanceStatus.CANCELED


@app.command("create")
def create(
    strategy: Annotated[
        str, typer.Argument(help="Stored strategy name, or a strategy file (applied first).")
    ],
    attributes: Annotated[
        str | None, typer.Option("--attributes", "-a", help="JSON or @file.json.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Start instant, ISO-8601 (default now).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="End instant, ISO-8601: no cycle after it.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    callbacks: CallbacksOption = None,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
    max_file_size: MaxFileSizeOption = None,
) -> int:
    """Create an instance of a strategy.

    Its attributes are checked against the strategy's instanceValidation.

    \b
    Example: strategy instance create loan-collection \\
               --attributes @customer.json
    """
    from ..adapters.clock import utcnow_seconds
    from ..adapters.operations import Loaded, save, with_strategy
    from ..core.engine import Engine
    from .common import open_store
    from .console import out, shown, write_json

    attrs = json_argument(attributes, "--attributes")
    with open_store(db) as store, store.transaction():
        record, settings = _strategy(store, strategy, max_file_bytes(max_file_size))
        attrs = checked_attributes(settings, attrs)
        zone = zone_of(settings)
        engine = Engine(record, settings, project_callbacks(callbacks))
        now = utcnow_seconds()
        begin, intended = start_option(start, zone, "--start") or (now, None)
        finish = instant_option(end, zone, "--end")
        if finish is not None and finish <= begin:
            from ..errors import UsageError
            from .datetimes import human_time

            raise UsageError(
                f"--end ({human_time(finish, zone, named=False)}) must be after the start "
                f"({human_time(begin, zone, named=False)})"
            )
        box = engine.create(
            attrs, begin, end=finish, description=description, now=now, intended=intended
        )
        save(store, Loaded(box, record, engine, simulated=False))
    if format is ReadFormat.json:
        write_json(with_strategy(box.instance, record))
    else:
        out().print(shown(box.instance["sid"]))
    return 0


def _strategy(store: Any, ref: str, max_bytes: int) -> tuple[dict[str, Any], Any]:
    from ..adapters.strategies import apply_strategy, load_strategy_file, settings_of

    if Path(ref).suffix in (".yaml", ".yml", ".json") or Path(ref).is_file():
        loaded = load_strategy_file(ref, max_bytes)
        record, _ = apply_strategy(store, loaded)
        return record, loaded.settings
    record = store.get_strategy(ref)
    if record is None:
        import difflib

        names = [r["name"] for r in store.list_strategies()]
        close = difflib.get_close_matches(ref, names, n=1)
        raise StrategyError(
            f"no strategy '{ref}' in the store",
            hint=f"did you mean '{close[0]}'?"
            if close
            else "store it first with `strategy apply FILE`",
        )
    return record, settings_of(record)


@app.command("list")
def list_instances(
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Only this strategy name.")
    ] = None,
    status: Annotated[
        StatusChoice | None, typer.Option("--status", help="Only this status.")
    ] = None,
    simulated: Annotated[
        bool, typer.Option("--simulated", help="Include simulated instances.")
    ] = False,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
) -> int:
    """List instances (simulated ones only with --simulated).

    Example: strategy instance list --strategy loan-collection --status ACTIVE
    """
    from rich.box import SIMPLE_HEAD
    from rich.table import Table

    from ..core.records import public
    from .common import open_store
    from .console import out, shown, write_json
    from .datetimes import human_time

    with open_store(db) as store:
        rows = store.list_instances(
            strategy=strategy,
            status=status.value if status else None,
            simulated=None if simulated else False,
        )
        strategies = {
            sid: store.get_strategy(sid) for sid in {str(r.get("strategyId", "")) for r in rows}
        }
        names = {sid: (record or {}).get("name", sid) for sid, record in strategies.items()}
        zones = {sid: zone_of_record(record) for sid, record in strategies.items()}
    if format is ReadFormat.json:
        write_json([public(r) for r in rows])
        return 0
    table = Table(header_style="bold", box=SIMPLE_HEAD, pad_edge=False)
    # The sim column only where simulated rows can be listed; the dates are never cut (the
    # strategy's name gives way on a narrow terminal).
    columns = ("sid", "strategy", "status", "cycle", "next event") + ("sim",) * simulated
    for col in columns:
        wide = {"next event": len("Sat 2026-01-31 09:00 +01:00"), "sim": 3}.get(col)
        table.add_column(col, no_wrap=True, overflow="ellipsis", min_width=wide)
    for r in rows:
        nxt = (r.get("nextEvent") or {}).get("date")
        zone = zones.get(str(r.get("strategyId", "")))
        cells: list[Text | str] = [
            shown(r["sid"][:8]),
            shown(str(names.get(str(r.get("strategyId", "")), r.get("strategyId")))[:24]),
            shown(r["status"]),
            shown(r["cycle"]),
            human_time(nxt, zone, named=False) if nxt else "-",
        ]
        table.add_row(*cells, *(["yes" if r.get("simulated") else ""] * simulated))
    out().print(
        table if rows else "no instances; create one with `strategy instance create STRATEGY`"
    )
    return 0


@app.command("show")
def show(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Show one instance with its strategy.

    Example: strategy instance show 3f2a9c1e
    """
    from ..adapters.operations import instance_sid, load, with_strategy
    from .common import open_store
    from .console import print_yaml, write_json
    from .datetimes import humanized

    with open_store(db) as store:
        loaded = load(store, instance_sid(store, sid))
    doc = with_strategy(loaded.box.instance, loaded.strategy)
    if format is ReadFormat.json:
        write_json(doc)
        return 0
    doc["strategy"] = {k: doc["strategy"][k] for k in ("sid", "name", "version")}
    print_yaml(humanized(doc, loaded.engine.zone))
    return 0


@app.command("timeline")
def timeline(
    sid: SidArg,
    db: DbOption = None,
    format: Annotated[
        TimelineFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TimelineFormat.timeline,
) -> int:
    """Every event of an instance, by cycle.

    Whatever its status: processed, pending, failed, cancelled.

    Example: strategy instance timeline 3f2a9c1e --format json
    """
    from ..adapters.operations import instance_sid, load
    from .common import open_store
    from .render_timeline import render_instance

    with open_store(db) as store:
        loaded = load(store, instance_sid(store, sid))
    render_instance(loaded.box, format, loaded.engine.zone, loaded.strategy["name"], "instance")
    return 0


@app.command("tasks")
def tasks(
    sid: SidArg,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Platform API base URL (or STRATEGY_API_URL): remote mode."),
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="The strategy's secret (or STRATEGY_SECRET).")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="A [profiles.NAME] of $XDG_CONFIG_HOME/strategy/config.toml."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Remote timeout, seconds.")
    ] = 30.0,
) -> int:
    """Pending tasks of an instance, by date.

    Every event not PROCESSED, FAILED or CANCELED. From the local store, or from the platform's API with --api-url/--secret or --profile.
    --format json prints exactly the platform's get-tasks response (strategy secrets redacted).

    Example: strategy instance tasks 3f2a9c1e --format json
    """
    from ..adapters.platform import resolve_remote
    from .console import write_json

    remote = resolve_remote(api_url, secret, profile)
    if remote is not None and db is not None:
        raise UsageError("--db reads the local store; it cannot be combined with remote mode")
    if remote is not None:
        from ..adapters.operations import redact_tasks
        from ..adapters.platform import get_tasks

        doc = redact_tasks(get_tasks(remote, sid, timeout))
    else:
        from ..adapters.operations import instance_sid, tasks_document
        from ..core.records import kind_of
        from .common import open_store

        with open_store(db) as store:
            full = instance_sid(store, sid)
            doc = tasks_document(store, full)
            if format is not ReadFormat.json:
                kinds: dict[str, str] = {
                    e["sid"]: kind_of(e) for e in store.pending_events_of(full)
                }
    if format is ReadFormat.json:
        write_json(doc)
    else:
        from .render_tasks import print_tasks

        print_tasks(doc, kinds if remote is None else None)
    return 0


def _operate(sid: str, db: str | None, format: ReadFormat, verb: str, op: Any) -> int:
    from ..adapters.clock import utcnow_seconds
    from ..adapters.operations import changing, instance_sid
    from ..core.records import public
    from .common import open_store
    from .console import out, shown, write_json
    from .datetimes import human_time

    with open_store(db) as store:
        with changing(store, instance_sid(store, sid), project_callbacks()) as loaded:
            before = {s: e["status"] for s, e in loaded.box.events.items()}
            op(loaded.engine, loaded.box, utcnow_seconds())
        box, zone = loaded.box, loaded.engine.zone
    changed = [e for s, e in box.events.items() if before.get(s) != e["status"]]
    if format is ReadFormat.json:
        write_json({"instance": public(box.instance), "changed": [public(e) for e in changed]})
        return 0
    console = out()
    console.print(
        shown(
            f"instance {box.instance['sid']} {verb}: now {box.instance['status']}, "
            f"cycle {box.instance['cycle']}"
        ),
        soft_wrap=True,
    )
    for e in changed:
        was = before.get(e["sid"], "new")
        reason = (
            f" ({e['cancelReason']})"
            if e.get("cancelReason") and e["status"] == EventStatus.CANCELED
            else ""
        )
        console.print(
            shown(
                f"  {e['sid'][:8]} {e['task']:<16} {was} -> {e['status']}{reason}  "
                f"{human_time(e['date'], zone, named=False)}"
            ),
            soft_wrap=True,
        )
    if not changed:
        console.print("  no event changed")
    return 0


@app.command("cancel")
def cancel(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Cancel an instance.

    Its open events are cancelled and its onCancel tasks are created.

    Example: strategy instance cancel 3f2a9c1e
    """
    return _operate(sid, db, format, "cancelled", lambda eng, box, now: eng.cancel(box, now))


@app.command("pause")
def pause(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Pause an ACTIVE instance.

    Its events are not run until it is resumed.

    Example: strategy instance pause 3f2a9c1e
    """
    return _operate(sid, db, format, "paused", lambda eng, box, now: eng.pause(box, now))


@app.command("resume")
def resume(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Resume a PAUSED instance.

    Its paused events are queued again (overdue ones run at once).

    Example: strategy instance resume 3f2a9c1e
    """
    return _operate(sid, db, format, "resumed", lambda eng, box, now: eng.resume(box, now))


@app.command("skip-cycle")
def skip_cycle(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Skip the current cycle of an instance.

    Its open events are cancelled (SKIP_CYCLE) and the next cycle starts.

    Example: strategy instance skip-cycle 3f2a9c1e
    """
    return _operate(
        sid, db, format, "skipped a cycle", lambda eng, box, now: eng.skip_cycle(box, now)
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="instance")
