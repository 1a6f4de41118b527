"""Pending tasks (get-tasks documents, local or remote) as a rich table."""

from __future__ import annotations

from typing import Any

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
    from datetime import datetime

    from rich import box
    from rich.table import Table

    from .console import out, shown

    console = out()
    if not doc:
        console.print("no pending tasks")
        return
    zone = _zone_of(doc)
    instance = doc[0].get("instance") or {}
    title = (
        f"{(doc[0].get('strategy') or {}).get('name', '?')} · instance {instance.get('sid', '?')}"
    )
    table = Table(title=shown(title), header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("date", "task", "kind", "status", "try", "cycle", "sid"):
        table.add_column(col, no_wrap=col != "task", overflow="fold")
    for e in doc:
        when = datetime.fromisoformat(str(e["date"]).replace("Z", "+00:00")).astimezone(zone)
        kind = (kinds or {}).get(e["sid"]) or (
            "main" if e.get("main") else ("on-cancel" if e.get("afterCancellation") else "other")
        )
        table.add_row(
            when.strftime("%Y-%m-%d %H:%M"),
            shown(e["task"]),
            shown(kind),
            status_text(e["status"]),
            shown(e.get("attempt") or 0),
            shown(e.get("createdCycle", "")),
            shown(str(e["sid"])[:8]),
        )
    console.print(table)
    console.print(shown(f"{len(doc)} pending task(s); times in {zone.key}"))
