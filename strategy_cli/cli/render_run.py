"""Progress while `strategy run` works, and its closing summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ORDER = (
    "processed",
    "retried",
    "paused",
    "on hold",
    "failed",
    "configuration error",
    "superseded",
    "released",
)


@contextmanager
def live_progress(console: Any) -> Iterator[Callable[[Any], None]]:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    bar = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    )
    with bar:
        task = bar.add_task("running due events", total=None)

        def update(summary: Any) -> None:
            bar.update(task, description=f"running due events: {_counts(summary)}")

        yield update


def _counts(summary: Any) -> str:
    parts = [f"{summary.outcomes[k]} {k}" for k in ORDER if summary.outcomes.get(k)]
    return ", ".join(parts) or "0 executed"


def print_summary(console: Any, summary: Any, interrupted: bool = False) -> None:
    from rich.table import Table

    from .console import shown

    head = "interrupted after" if interrupted else "done:"
    console.print(shown(f"{head} {summary.executed} attempt(s): {_counts(summary)}"))
    _print_failures(console, summary)
    stats = summary.stats
    if not stats.calls:
        return
    table = Table(header_style="bold", title="calls per service")
    for col in ("service", "calls", "errors"):
        table.add_column(col, justify="left" if col == "service" else "right")
    for service, calls in sorted(stats.calls.items()):
        table.add_row(shown(service), str(calls), str(stats.errors.get(service, 0)))
    console.print(table)


def _print_failures(console: Any, summary: Any) -> None:
    """Why attempts failed, by reason, most frequent first: one line when there is one reason."""
    from ..core.failures import grouped
    from .console import shown

    total = sum(summary.failures.values())
    if not total:
        return
    groups = grouped(summary.failures)
    rows = [f"{reason} ({count})" for reason, count in groups.shown]
    if groups.more_reasons:
        rows.append(f"and {groups.more_reasons} more reason(s) ({groups.more_attempts})")
    head = f"{total} attempt(s) failed:"
    if len(rows) == 1:
        console.print(shown(f"{head} {rows[0]}"), soft_wrap=True)
        return
    console.print(shown(head))
    for row in rows:
        console.print(shown(f"  {row}"), soft_wrap=True)


def print_configuration_errors(console: Any, summary: Any) -> None:
    """One line per event whose attempt failed before anything was sent (on stderr)."""
    from .console import shown

    for e in summary.events:
        if e["outcome"] == "configuration-error":
            console.print(
                shown(
                    f"error: event {e['event']} (task {e['task']}): {e['errorMessage']}; "
                    "nothing was sent, no retry was used, the event stays due"
                ),
                soft_wrap=True,
            )


def summary_json(summary: Any, interrupted: bool = False) -> dict[str, Any]:
    """`run --format json`: the counts by outcome, each stored outcome, the calls per service."""
    stats = summary.stats
    return {
        "interrupted": interrupted,
        "outcomes": {k.replace(" ", "-"): summary.outcomes[k] for k in ORDER},
        "events": summary.events,
        "calls": {
            service: {"calls": calls, "errors": stats.errors.get(service, 0)}
            for service, calls in sorted(stats.calls.items())
        },
        "warnings": list(summary.problems),
        # Every reason (the text summary shows the first few), most frequent first.
        "failures": [
            {"reason": reason, "count": count} for reason, count in summary.failures.most_common()
        ],
    }
