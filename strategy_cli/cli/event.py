"""`strategy event show|trigger|resume`: one event of an instance."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .common import DbOption, FormatOption, ReadFormat, json_argument, project_callbacks

app = typer.Typer(help="Inspect and move single events.", no_args_is_help=True)
SidArg = Annotated[str, typer.Argument(help="Event sid (or a unique prefix of 8+ characters).")]


def _instance_of(store: Any, sid: str) -> tuple[str, str]:
    """(instance sid, event sid) of an event given by sid or prefix."""
    from ..adapters.operations import event_sid

    event = store.get_event(event_sid(store, sid))
    return str(event["instanceSid"]), str(event["sid"])


@app.command("show")
def show(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Show one event with its task status and step results.

    Example: strategy event show 9b1c77d0 --format json
    """
    from ..adapters.operations import event_sid
    from ..core.records import public
    from .common import open_store, zone_of_record
    from .console import print_yaml, write_json
    from .datetimes import humanized

    with open_store(db) as store:
        event = public(store.get_event(event_sid(store, sid)) or {})
        zone = zone_of_record(store.get_strategy(str(event.get("strategySid", ""))))
    if format is ReadFormat.json:
        write_json(event)
    else:
        print_yaml(humanized(event, zone))
    return 0


def _change(sid: str, db: str | None, format: ReadFormat, op: Any, verb: str) -> int:
    from ..adapters.clock import utcnow_seconds
    from ..adapters.operations import changing
    from ..core.records import public
    from .common import open_store
    from .console import out, shown, write_json
    from .datetimes import human_time

    with open_store(db) as store:
        instance, event = _instance_of(store, sid)
        with changing(store, instance, project_callbacks()) as loaded:
            record = loaded.box.events[event]
            before, zone = record["status"], loaded.engine.zone
            op(loaded.engine, loaded.box, record, utcnow_seconds())
    if format is ReadFormat.json:
        write_json(public(record))
    else:
        out().print(
            shown(
                f"event {record['sid']} ({record['task']}) {verb}: {before} -> {record['status']}, "
                f"due {human_time(record['date'], zone, named=False)}"
            ),
            soft_wrap=True,
        )
    return 0


@app.command("trigger")
def trigger(sid: SidArg, db: DbOption = None, format: FormatOption = ReadFormat.text) -> int:
    """Release an ONHOLD event (manualTrigger).

    It becomes PENDING and runs when due.

    Example: strategy event trigger 9b1c77d0
    """
    return _change(
        sid, db, format, lambda eng, box, ev, now: eng.trigger(box, ev, now), "triggered"
    )


@app.command("resume")
def resume(
    sid: SidArg,
    data: Annotated[
        str | None, typer.Option("--data", help="The async method's result: JSON or @file.json.")
    ] = None,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
) -> int:
    """Resume an event waiting for an asynchronous method.

    The method's result is given with --data; `strategy run` continues the event's flow.

    Example: strategy event resume 9b1c77d0 --data '{"approved": true}'
    """
    payload = json_argument(data, "--data")
    return _change(
        sid,
        db,
        format,
        lambda eng, box, ev, now: eng.resume_event(box, ev, payload, now),
        "resumed",
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="event")
