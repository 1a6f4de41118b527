"""Pending tasks (get-tasks documents, local or remote) as a rich table."""

from __future__ import annotations

from typing import Any

from ..core.domain import EventKind
from .render_timeline import status_text


def _zone_of(doc: list[dict[str, Any]]) -> Any:
    from ..core.timecalc import TimeError, get_zone

    settings = (doc[0].get("strategy") or {}).get("settings") or {} if doc else {}
    name = (settings.get("config") or {}).get("timezone") if isinstance(settings, dict) else None
    try:
        return get_zone(name)
    except TimeError:
        return get_zone(None)


def print_tasks(doc: list[dict[str, Any]], kinds: dict[str, str] | None = None) -> None:
    """`kinds` (local store only) tells leading-up from on-create events; the platform's
    records do not say."""
    from rich import box
    from rich.table import Table

    from .console import out, shown
    from .datetimes import human_time

    console = out()
    if not doc:
        console.print("no pending tasks")
        return
    zone = _zone_of(doc)
    instance = doc[0].get("instance") or {}
    strategy = doc[0].get("strategy") or {}
    title = f"{_or_dash(strategy.get('name'))} · instance {_or_dash(instance.get('sid'))}"
    table = Table(title=shown(title), header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("date", "task", "kind", "status", "try", "cycle", "sid"):
        table.add_column(col, no_wrap=col != "task", overflow="fold")
    for e in doc:
        table.add_row(
            human_time(str(e["date"]), zone) if e.get("date") else "-",
            shown(_or_dash(e.get("task"))),
            shown((kinds or {}).get(str(e.get("sid"))) or _kind(e)),
            status_text(_or_dash(e.get("status"))),
            shown(_or_dash(e.get("attempt"))),
            shown(_or_dash(e.get("createdCycle"))),
            shown(str(_or_dash(e.get("sid")))[:8]),
        )
    console.print(table)
    console.print(shown(f"{len(doc)} pending task(s); times in {zone.key}"))


def _kind(event: dict[str, Any]) -> str:
    """What the platform's record says: `main`, `on-cancel` or `other`."""
    if event.get("main"):
        return EventKind.MAIN
    return EventKind.ON_CANCEL if event.get("afterCancellation") else "other"


def _or_dash(value: object) -> object:
    """A value the platform left out (`null`) reads `-`, never `None`."""
    return "-" if value is None else value
