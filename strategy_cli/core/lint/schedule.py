"""Schedule rules: something runs in cycle 1, calendars do not collide, delays make sense."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..document import Document
from ..findings import DocPath, Finding
from ..timecalc import delay_minutes
from .walk import delays, items, retry_configs, whole

UNITS = frozenset({"years", "months", "days", "hours", "minutes"})

CALENDARS: DocPath = ("settings", "schedule", "calendars")


def check_schedule(doc: Document) -> Iterator[Finding]:
    yield from _first_cycle(doc)
    yield from _duplicate_cycles(doc)
    yield from _leading_up_lengths(doc)
    yield from _leading_ups_without_task(doc)
    yield from _retry_lengths(doc)
    yield from _retry_callbacks(doc)


def _first_cycle(doc: Document) -> Iterator[Finding]:
    from ..document import get_in

    if not isinstance(get_in(doc.data, CALENDARS), list):
        return
    cals = [c for _, c in items(doc.data, CALENDARS)]
    if any(c.get("runOnCycle") == 1 or c.get("runOnCycleCallback") for c in cals):
        return
    if any("runOnCycle" not in c for c in cals):
        return
    yield doc.finding(
        "no-first-cycle-calendar",
        CALENDARS,
        "no calendar runs cycle 1 and there is no default calendar: nothing would ever run",
        hint="add a calendar without runOnCycle (the default) or one with `runOnCycle: 1`",
        at="key",
    )


def _duplicate_cycles(doc: Document) -> Iterator[Finding]:
    seen: dict[int, str] = {}
    for path, cal in items(doc.data, CALENDARS):
        cycle = cal.get("runOnCycle")
        if not isinstance(cycle, int) or isinstance(cycle, bool):
            continue
        if cycle in seen:
            yield doc.finding(
                "duplicate-run-on-cycle",
                (*path, "runOnCycle"),
                f"calendar '{cal.get('key')}' and calendar '{seen[cycle]}' both run cycle {cycle};"
                " only the first is used",
            )
        else:
            seen[cycle] = str(cal.get("key"))


def _leading_up_lengths(doc: Document) -> Iterator[Finding]:
    for path, cal in items(doc.data, CALENDARS):
        after: Any = cal.get("scheduleAfter")
        if not _measurable(after):
            continue
        for lpath, lead in items(doc.data, (*path, "leadingUpTasks")):
            before: Any = lead.get("scheduleBefore")
            if _measurable(before) and delay_minutes(before) > delay_minutes(after):
                yield doc.finding(
                    "leading-up-before-previous-cycle",
                    (*lpath, "scheduleBefore"),
                    f"leading-up task '{lead.get('task')}' is scheduled "
                    f"{before['amount']} {before['unit']} before the main task, longer than the "
                    f"cycle ({after['amount']} {after['unit']}): it lands before the previous cycle",
                    hint="shorten scheduleBefore",
                )


def _leading_ups_without_task(doc: Document) -> Iterator[Finding]:
    for path, cal in items(doc.data, CALENDARS):
        for lpath, lead in items(doc.data, (*path, "leadingUpTasks")):
            if lead.get("task") is None:
                yield doc.finding(
                    "leading-up-without-task",
                    lpath,
                    f"a leading-up item of calendar '{cal.get('key')}' names no task: "
                    "it creates no event",
                    hint="add `task: KEY`, or remove the item",
                )


def _measurable(delay: Any) -> bool:
    return (
        isinstance(delay, dict)
        and "from" not in delay
        and "resetTo" not in delay
        and whole(delay.get("amount")) is not None
        and isinstance(delay.get("unit"), str)
        and delay.get("unit") in UNITS
    )


def _retry_lengths(doc: Document) -> Iterator[Finding]:
    for path, retry in retry_configs(doc.data):
        times, strategy = retry.get("times"), retry.get("retryStrategy")
        times = whole(times)
        if times is not None and isinstance(strategy, list) and len(strategy) > times:
            yield doc.finding(
                "retry-strategy-too-long",
                (*path, "retryStrategy", max(times, 0)),  # the first entry that never applies
                f"retryStrategy has {len(strategy)} entries but times is {times}: "
                f"the last {len(strategy) - times} never apply",
            )


def _retry_callbacks(doc: Document) -> Iterator[Finding]:
    for path, delay, role in delays(doc.data):
        if role != "retry" and delay.get("retryEventCallback") is not None:
            yield doc.finding(
                "retry-callback-outside-retry",
                (*path, "retryEventCallback"),
                "retryEventCallback only has effect on a retryConfig.retryAfter delay",
                hint="move it to the task's retryConfig.retryAfter",
                at="key",
            )
