"""Reference rules: every name that points at a task, step, action, service or method resolves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..document import Document
from ..findings import DocPath, Finding
from .walk import did_you_mean, items, keyed, known, text

S: DocPath = ("settings",)


def check_references(doc: Document) -> Iterator[Finding]:
    yield from _duplicates(doc)
    yield from _task_refs(doc)
    yield from _step_refs(doc)
    yield from _action_refs(doc)


def _duplicates(doc: Document) -> Iterator[Finding]:
    groups: list[tuple[DocPath, str]] = [
        ((*S, "tasks"), "task"),
        ((*S, "actions"), "action"),
        ((*S, "services"), "service"),
        ((*S, "schedule", "calendars"), "calendar"),
    ]
    groups += [((*p, "steps"), "step") for p, _ in items(doc.data, (*S, "tasks"))]
    groups += [((*p, "methods"), "method") for p, _ in items(doc.data, (*S, "services"))]
    for path, what in groups:
        seen: dict[str, DocPath] = {}
        for p, item in items(doc.data, path):
            key = text(item.get("key"))
            if key is None:
                continue
            if key in seen:
                line = doc.locate((*seen[key], "key"))[0]
                yield doc.finding(
                    "duplicate-key",
                    (*p, "key"),
                    f"{what} key '{key}' is already used (line {line})",
                    hint=f"give each {what} its own key",
                )
            else:
                seen[key] = p


def _task_refs(doc: Document) -> Iterator[Finding]:
    tasks = keyed(doc.data, (*S, "tasks"))
    refs: list[DocPath] = []
    for cpath, cal in items(doc.data, (*S, "schedule", "calendars")):
        if "task" in cal:
            refs.append((*cpath, "task"))
        refs += [
            (*lp, "task")
            for lp, lead in items(doc.data, (*cpath, "leadingUpTasks"))
            if "task" in lead
        ]
    for group in ("onCreateTasks", "onCancelTasks"):
        refs += [(*p, "task") for p, _ in items(doc.data, (*S, group))]
    for path in refs:
        yield from _resolve(doc, path, tasks, "task", "unknown-task")


def _step_refs(doc: Document) -> Iterator[Finding]:
    for tpath, task in items(doc.data, (*S, "tasks")):
        steps = keyed(doc.data, (*tpath, "steps"))
        where = f" of task '{task.get('key')}'"
        yield from _resolve(doc, (*tpath, "initialStep"), steps, "step", "unknown-step", where)
        for spath, _ in items(doc.data, (*tpath, "steps")):
            yield from _resolve(doc, (*spath, "nextStep"), steps, "step", "unknown-step", where)
            for rpath, _ in items(doc.data, (*spath, "nextStepRules")):
                yield from _resolve(doc, (*rpath, "nextStep"), steps, "step", "unknown-step", where)


def _action_refs(doc: Document) -> Iterator[Finding]:
    actions = keyed(doc.data, (*S, "actions"))
    for tpath, _ in items(doc.data, (*S, "tasks")):
        for spath, _ in items(doc.data, (*tpath, "steps")):
            yield from _resolve(doc, (*spath, "action"), actions, "action", "unknown-action")
    services = keyed(doc.data, (*S, "services"))
    for apath, action in items(doc.data, (*S, "actions")):
        found = list(_resolve(doc, (*apath, "service"), services, "service", "unknown-service"))
        yield from found
        service = services.get(text(action.get("service")) or "")
        if found or service is None:
            continue
        methods = keyed(doc.data, (*service[0], "methods"))
        where = f" of service '{action.get('service')}'"
        yield from _resolve(doc, (*apath, "method"), methods, "method", "unknown-method", where)


def _resolve(
    doc: Document,
    path: DocPath,
    table: dict[str, Any],
    what: str,
    rule: str,
    where: str = "",
) -> Iterator[Finding]:
    from ..document import get_in

    name = get_in(doc.data, path)
    if not isinstance(name, str) or name in table:
        return
    hint = did_you_mean(name, table) or known(table)
    yield doc.finding(rule, path, f"'{name}' is not a {what}{where}", hint=hint)
