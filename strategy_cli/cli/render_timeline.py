"""An instance's events as a timeline (grouped by cycle), a flat table, or an iCalendar file.

Shared by `simulate` and `instance timeline`: one renderer for both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..core.attempt import CONFIGURATION_ERROR as CONFIG
from ..core.records import kind_of

STATUS_STYLE = {
    "PROCESSED": "green",
    "FAILED": "red",
    "CANCELED": "dim",
    "PAUSED": "yellow",
    "ONHOLD": "magenta",
    "PENDING": "cyan",
    "QUEUED": "cyan",
    "EXECUTING": "blue",
}
NOTE_MARK = {"dst-gap": "DST gap", "dst-fold": "DST fold", "month-clamp": "month end"}


def _local(text: str, zone: Any) -> datetime:
    return datetime.fromisoformat(text).astimezone(zone)


def _stamp(text: str, zone: Any) -> str:
    return _local(text, zone).strftime("%a %Y-%m-%d %H:%M")


def _planned(event: dict[str, Any]) -> str:
    return str(event.get("_planned") or event["date"])


def _offset(event: dict[str, Any], main: dict[str, Any] | None) -> str:
    if main is None or event is main:
        return "0d" if event is main else ""
    delta = datetime.fromisoformat(_planned(event)) - datetime.fromisoformat(_planned(main))
    minutes = int(delta.total_seconds() // 60)
    if minutes % 1440 == 0 or abs(minutes) >= 2880:
        return f"{round(minutes / 1440):+d}d"
    if minutes % 60 == 0:
        return f"{minutes // 60:+d}h"
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m" if minutes > 60 else f"{sign}{minutes}m"


def _notes_by_event(notes: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for note in notes:
        out[note.get("eventSid")].append(note)
    return out


def print_timeline(
    instance: dict[str, Any],
    events: list[dict[str, Any]],
    notes: list[dict[str, Any]],
    zone: Any,
    title: str,
) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .console import out

    console = out()
    console.print(f"[bold]{escape(title)}[/]  instance {instance['sid']}  ({zone.key})")
    by_cycle: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_cycle[int(event.get("createdCycle") or 0)].append(event)
    notes_of = _notes_by_event(notes)
    for cycle in sorted(by_cycle):
        rows = by_cycle[cycle]
        main = next((e for e in rows if e.get("main")), None)
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        for col in ("when", "offset", "task", "kind", "status", "attempts"):
            table.add_column(
                col,
                no_wrap=True,
                overflow="ellipsis" if col == "task" else "fold",
                justify="right" if col == "offset" else "left",
            )
        for event in rows:
            _event_rows(table, event, main, notes_of.get(event["sid"], []), zone)
        head = f"Cycle {cycle}" if cycle else "Events"
        if main is not None:
            head += f" · main {_stamp(_planned(main), zone)}"
        console.print()
        console.print(f"[bold cyan]{head}[/]")
        console.print(table)
    loose = [n for n in notes if not n.get("eventSid")]
    for note in loose:
        console.print(
            # the kind's brackets are escaped: unescaped, rich reads "[kind]" as a style tag
            f"[yellow]note[/] {escape('[' + note['kind'] + ']')} {escape(note['message'])}"
        )
    _footer(console, instance, events)


def _event_rows(
    table: Any, event: dict[str, Any], main: Any, notes: list[dict[str, Any]], zone: Any
) -> None:
    from rich.markup import escape

    status = event["status"]
    style = STATUS_STYLE.get(status, "")
    # A configuration error is no attempt: nothing was sent (docs/running.md).
    tried = [h for h in event.get("_history", []) if h.get("outcome") not in (None, CONFIG)]
    attempts = str(len(tried) or event.get("attempt") or 0)
    marks = " ".join(f"[yellow]⚑ {NOTE_MARK.get(n['kind'], n['kind'])}[/]" for n in notes)
    table.add_row(
        _stamp(event["date"], zone),
        _offset(event, main),
        escape(event["task"]) + (f" {marks}" if marks else ""),
        kind_of(event),
        f"[{style}]{status}[/]" if style else status,
        attempts,
    )
    for h in event.get("_history", []):
        if h.get("outcome") == CONFIG:
            table.add_row(
                f"  ↳ {_stamp(h['at'], zone)}",
                "",
                f"[dim]{escape(str(h.get('message')))}[/]",
                "not sent",
                "[yellow]PENDING[/]",
                "",
            )
        if h.get("outcome") == "failed":
            # One aligned row per failed attempt; the full message is in --format json.
            table.add_row(
                f"  ↳ {_stamp(h['at'], zone)}",
                "",
                f"[dim]{escape(str(h.get('message') or 'failed'))}[/]",
                "retry",
                "[red]FAILED[/]",
                str(h["attempt"]),
            )
    if event.get("cancelReason"):
        table.add_row("", "", f"[dim]  cancelled: {event['cancelReason']}[/]", "", "", "")


def _footer(console: Any, instance: dict[str, Any], events: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for event in events:
        counts[event["status"]] += 1
    summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    console.print()
    console.print(
        f"instance {instance['status']} at cycle {instance['cycle']}: {len(events)} events ({summary})",
        soft_wrap=True,
    )


def print_table(events: list[dict[str, Any]], zone: Any, title: str | None = None) -> None:
    from rich import box
    from rich.table import Table

    from .console import out

    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("date", "cycle", "task", "kind", "status", "try", "sid"):
        table.add_column(col, no_wrap=col != "task", overflow="fold")
    for event in events:
        status = event["status"]
        style = STATUS_STYLE.get(status, "")
        table.add_row(
            _local(event["date"], zone).strftime("%Y-%m-%d %H:%M"),
            str(event.get("createdCycle", "")),
            event["task"],
            kind_of(event),
            f"[{style}]{status}[/]" if style else status,
            str(event.get("attempt") or 0),
            event["sid"][:8],
        )
    out().print(table)


def to_ics(instance: dict[str, Any], events: list[dict[str, Any]], title: str) -> bytes:
    from datetime import UTC, timedelta

    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//strategy-cli//simulate//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{title} ({instance['sid'][:8]})")
    for event in events:
        # UTC ("...Z"): an offset-only TZID such as "UTC+01:00" names no zone and reads back naive.
        start = datetime.fromisoformat(event["date"]).astimezone(UTC)
        item = Event()
        item.add("uid", f"{event['sid']}@strategy-cli")
        item.add(
            "summary", f"{event['task']} ({kind_of(event)}, cycle {event.get('createdCycle')})"
        )
        item.add("dtstart", start)
        item.add("dtend", start + timedelta(minutes=15))
        stamp = datetime.fromisoformat(event.get("updatedAt") or event["date"])
        item.add("dtstamp", stamp.astimezone(UTC))
        item.add("description", f"status {event['status']}, attempts {event.get('attempt') or 0}")
        item.add("categories", [kind_of(event)])
        cal.add_component(item)
    return cal.to_ical()


class TimelineFormat(StrEnum):
    timeline = "timeline"
    table = "table"
    json = "json"
    ics = "ics"


def render_instance(box: Any, format: TimelineFormat, zone: Any, name: str, label: str) -> None:
    """One instance (`label`: "simulated instance" or "instance") in the chosen format."""
    import sys

    from ..core.simulate import document
    from .console import write_json

    events = box.ordered_events()
    if format is TimelineFormat.json:
        write_json(document(box))
    elif format is TimelineFormat.ics:
        sys.stdout.buffer.write(to_ics(box.instance, events, name))
    elif format is TimelineFormat.table:
        print_table(events, zone, title=f"{name} · {label} {box.instance['sid']}")
    else:
        title = f"{name} (simulated)" if label.startswith("simulated") else name
        print_timeline(box.instance, events, box.state.get("notes", []), zone, title)
