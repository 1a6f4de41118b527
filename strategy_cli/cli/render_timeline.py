"""An instance's events as a timeline (grouped by cycle), a flat table, or an iCalendar file.

Shared by `simulate` and `instance timeline`: one renderer for both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..core.attempt import CONFIGURATION_ERROR as CONFIG
from ..core.domain import EventStatus, NoteKind
from ..core.records import kind_of

if TYPE_CHECKING:
    from rich.text import Text

STATUS_STYLE: dict[str, str] = {
    EventStatus.PROCESSED: "green",
    EventStatus.FAILED: "red",
    EventStatus.CANCELED: "dim",
    EventStatus.PAUSED: "yellow",
    EventStatus.ONHOLD: "magenta",
    EventStatus.PENDING: "cyan",
    EventStatus.QUEUED: "cyan",
    EventStatus.EXECUTING: "blue",
}


def status_text(status: object) -> Text:
    """A status in its colour; one this tool does not know (from a remote) shown literally."""
    from .console import shown

    return shown(status, STATUS_STYLE.get(str(status), ""))


NOTE_MARK: dict[str, str] = {
    NoteKind.DST_GAP: "DST gap",
    NoteKind.DST_FOLD: "DST fold",
    NoteKind.MONTH_CLAMP: "month end",
}


def _stamp(text: str, zone: Any) -> str:
    from .datetimes import human_time

    return human_time(text, zone)  # the header names the zone


def _planned(event: dict[str, Any]) -> str:
    return str(event.get("_planned") or event["date"])


def _offset(event: dict[str, Any], main: dict[str, Any] | None, zone: Any) -> str:
    """From the cycle's main event: as the strategy wrote it when it did ("-24h" stays hours),
    else worked out from the dates ("0d" for the main itself, "+" before any later one)."""
    if main is None:
        return ""
    if event is main:
        return "0d"
    if event.get("_offset"):
        return str(event["_offset"])
    return _offset_between(_planned(event), _planned(main), zone)


def _offset_between(text: str, base: str, zone: Any) -> str:
    at, ref = (
        datetime.fromisoformat(text).astimezone(zone),
        datetime.fromisoformat(base).astimezone(zone),
    )
    walls = at.replace(tzinfo=None) - ref.replace(tzinfo=None)
    if walls and walls.seconds == 0 and walls.microseconds == 0:
        return f"{walls.days:+d}d"  # whole days of wall time: a DST change keeps "-1d"
    minutes = int((at - ref).total_seconds() // 60)
    if minutes == 0:
        return "0d"
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours}h" + (f"{rest:02d}m" if rest else "") if hours else f"{sign}{rest}m"


def _notes_by_event(notes: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for note in notes:
        out[note.get("eventSid")].append(note)
    return out


# A row: its cells (when, offset, task, kind, status, attempts), then the lines of long text
# (a failure message, a note) that go below it, indented and wrapped, so the cells are never cut.
Row = tuple[tuple["Text", ...], list["Text"]]
MESSAGE_INDENT = 6
GAP = "  "
KEEP = "\ue000"  # joins a date-time's parts while a message is wrapped (a private-use character)


def print_timeline(
    instance: dict[str, Any],
    events: list[dict[str, Any]],
    notes: list[dict[str, Any]],
    zone: Any,
    title: str,
) -> None:
    from .console import line, out, shown
    from .datetimes import human_times_in

    console = out()
    console.print(line((title, "bold"), f"  (times in {zone.key})"))
    console.print(line(f"instance {instance['sid']}"))
    by_cycle: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_cycle[int(event.get("createdCycle") or 0)].append(event)
    notes_of = _notes_by_event(notes)
    cycles = []
    for cycle in sorted(by_cycle):
        rows = by_cycle[cycle]
        main = next((e for e in rows if e.get("main")), None)
        head = f"Cycle {cycle}" if cycle else "Events"
        if main is not None:
            head += f" · main {_stamp(_planned(main), zone)}"
        table: list[Row] = []
        for event in rows:
            table += _event_rows(event, main, notes_of.get(event["sid"], []), zone)
        cycles.append((head, table))
    widths = _widths([row for _, table in cycles for row in table], console.width)
    for head, table in cycles:
        console.print()
        console.print(line((head, "bold cyan")))
        for cells, below in table:
            console.print(_joined(cells, widths), no_wrap=True, overflow="crop")
            for text in below:
                _print_wrapped(console, text)
    loose = [n for n in notes if not n.get("eventSid")]
    for note in loose:
        console.print(line(("note", "yellow"), f" [{note['kind']}]"))
        _print_wrapped(console, shown(human_times_in(str(note["message"]), zone, KEEP)))
    _footer(console, instance, events)


def _widths(rows: list[Row], width: int) -> list[int]:
    """Every column as wide as its widest cell; the task column gives way (down to 8) when
    the line would not fit: the dates, statuses and attempt numbers never do."""
    widths = [max((cells[i].cell_len for cells, _ in rows), default=0) for i in range(6)]
    fixed = sum(widths) - widths[2] + 5 * len(GAP)
    widths[2] = max(8, min(widths[2], width - fixed))
    return widths


def _joined(cells: tuple[Text, ...], widths: list[int]) -> Text:
    from rich.text import Text

    row = Text()
    for i, (cell, wide) in enumerate(zip(cells, widths, strict=True)):
        if i == 1:  # offsets align on the right
            cell = Text(" " * (wide - cell.cell_len)) + cell
        cell = cell.copy()
        cell.truncate(wide, overflow="ellipsis", pad=i < 5)
        row.append_text(cell)
        if i < 5:
            row.append(GAP)
    row.rstrip()
    return row


def _print_wrapped(console: Any, text: Text) -> None:
    from rich.text import Text

    for part in text.wrap(console, max(20, console.width - MESSAGE_INDENT)):
        part.rstrip()
        if KEEP in part.plain:  # a date-time kept whole on one line
            part = Text(part.plain.replace(KEEP, " "), style=text.style)
        console.print(Text(" " * MESSAGE_INDENT) + part, no_wrap=True, overflow="crop")


def _event_rows(
    event: dict[str, Any],
    main: dict[str, Any] | None,
    notes: list[dict[str, Any]],
    zone: Any,
) -> list[Row]:
    from .console import line, shown

    # A configuration error is no attempt: nothing was sent (docs/running.md).
    tried = [h for h in event.get("_history", []) if h.get("outcome") not in (None, CONFIG)]
    attempts = str(len(tried) or event.get("attempt") or 0)
    marks = [line((f"⚑ {NOTE_MARK.get(n['kind'], n['kind'])}", "yellow")) for n in notes]
    cells = (
        shown(_stamp(event["date"], zone)),
        shown(_offset(event, main, zone)),
        shown(event["task"]),
        shown(kind_of(event)),
        status_text(event["status"]),
        shown(attempts),
    )
    rows: list[Row] = [(cells, marks)]
    for h in event.get("_history", []):
        if h.get("outcome") == CONFIG:
            sub = (
                shown(f"  ↳ {_stamp(h['at'], zone)}"),
                shown(""),
                shown(""),
                shown("not sent"),
                shown(EventStatus.PENDING.value, "yellow"),
                shown(""),
            )
            rows.append((sub, [shown(h.get("message"), "dim")]))
        if h.get("outcome") == "failed":
            # Attempt 1 is never a retry; the full message is in --format json.
            label = "attempt" if int(h.get("attempt") or 1) <= 1 else "retry"
            sub = (
                shown(f"  ↳ {_stamp(h['at'], zone)}"),
                shown(""),
                shown(""),
                shown(label),
                status_text(EventStatus.FAILED),
                shown(h.get("attempt", "")),
            )
            rows.append((sub, [shown(h.get("message") or "failed", "dim")]))
    if event.get("cancelReason"):
        rows[-1][1].append(shown(f"cancelled: {event['cancelReason']}", "dim"))
    return rows


def _footer(console: Any, instance: dict[str, Any], events: list[dict[str, Any]]) -> None:
    from .console import shown

    counts: dict[str, int] = defaultdict(int)
    for event in events:
        counts[event["status"]] += 1
    summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    console.print()
    head = f"instance {instance['status']} at cycle {instance['cycle']}"
    console.print(shown(f"{head}: {len(events)} events ({summary})"))


def print_table(events: list[dict[str, Any]], zone: Any, title: str | None = None) -> None:
    from rich import box
    from rich.table import Table

    from .console import out, shown

    table = Table(
        title=shown(title) if title else None,
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col in ("date", "cycle", "task", "kind", "status", "try", "sid"):
        table.add_column(col, no_wrap=col != "task", overflow="fold")
    for event in events:
        table.add_row(
            _stamp(event["date"], zone),
            shown(event.get("createdCycle", "")),
            shown(event["task"]),
            shown(kind_of(event)),
            status_text(event["status"]),
            shown(event.get("attempt") or 0),
            shown(event["sid"][:8]),
        )
    out().print(table)


def to_ics(instance: dict[str, Any], events: list[dict[str, Any]], title: str) -> bytes:
    from datetime import UTC, timedelta

    from icalendar import Calendar, Event

    from ..core.literal import literal

    # iCalendar text may hold no control characters (RFC 5545, 3.3.11): escaped as on a terminal.
    title = literal(title)
    cal = Calendar()
    cal.add("prodid", "-//strategy-cli//simulate//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{title} ({instance['sid'][:8]})")
    for event in events:
        # UTC ("...Z"): an offset-only TZID such as "UTC+01:00" names no zone and reads back naive.
        start = datetime.fromisoformat(event["date"]).astimezone(UTC)
        item = Event()
        item.add("uid", literal(f"{event['sid']}@strategy-cli"))
        summary = f"{event['task']} ({kind_of(event)}, cycle {event.get('createdCycle')})"
        item.add("summary", literal(summary))
        item.add("dtstart", start)
        item.add("dtend", start + timedelta(minutes=15))
        stamp = datetime.fromisoformat(event.get("updatedAt") or event["date"])
        item.add("dtstamp", stamp.astimezone(UTC))
        description = f"status {event['status']}, attempts {event.get('attempt') or 0}"
        item.add("description", literal(description))
        item.add("categories", [literal(kind_of(event))])
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
        title = f"{name} · {label} {box.instance['sid']} · times in {zone.key}"
        print_table(events, zone, title=title)
    else:
        title = f"{name} (simulated)" if label.startswith("simulated") else name
        print_timeline(box.instance, events, box.state.get("notes", []), zone, title)
