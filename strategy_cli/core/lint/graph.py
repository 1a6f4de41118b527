"""Graph rules over each task's steps: reachability, ends, and rule consistency."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..document import Document
from ..findings import DocPath, Finding
from .walk import items, text

S: DocPath = ("settings",)


class StepGraph:
    """The steps of one task and where each can lead (success, handled error, retry, pause)."""

    def __init__(self, steps: Iterable[tuple[DocPath, dict[str, Any]]]) -> None:
        self.paths: dict[str, DocPath] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        for path, step in steps:
            key = text(step.get("key"))
            if key is not None and key not in self.steps:
                self.paths[key], self.steps[key] = path, step

    def successors(self, key: str) -> list[str]:
        step = self.steps[key]
        out = [text(step.get("nextStep"))]
        out += [text(r.get("nextStep")) for r in _rules(step)]
        return [k for k in out if k in self.steps]

    def reachable(self, start: str | None) -> set[str]:
        seen: set[str] = set()
        todo = [start] if start in self.steps else []
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(self.successors(key))
        return seen

    def is_end(self, key: str) -> bool:
        """A successful run of this step can end the task (explicitly or implicitly)."""
        step = self.steps[key]
        return step.get("final") is True or text(step.get("nextStep")) not in self.steps


def _rules(step: dict[str, Any]) -> list[dict[str, Any]]:
    rules = step.get("nextStepRules")
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def task_graphs(doc: Document) -> Iterator[tuple[DocPath, dict[str, Any], StepGraph]]:
    for tpath, task in items(doc.data, (*S, "tasks")):
        yield tpath, task, StepGraph(items(doc.data, (*tpath, "steps")))


def check_graph(doc: Document) -> Iterator[Finding]:
    for tpath, task, graph in task_graphs(doc):
        start = text(task.get("initialStep"))
        if start in graph.steps:
            reach = graph.reachable(start)
            yield from _unreachable(doc, graph, reach, start)
            if not any(graph.is_end(k) for k in reach):
                yield doc.finding(
                    "task-never-succeeds",
                    (*tpath, "initialStep"),
                    f"task '{task.get('key')}' can never succeed: no step reachable from "
                    f"'{start}' is final or ends the task",
                    hint="mark the last step `final: true`",
                )
        for key, step in graph.steps.items():
            yield from _step_rules(doc, graph.paths[key], step)


def _unreachable(doc: Document, graph: StepGraph, reach: set[str], start: str) -> Iterator[Finding]:
    for key, path in graph.paths.items():
        if key not in reach:
            yield doc.finding(
                "unreachable-step",
                (*path, "key"),
                f"step '{key}' cannot be reached from initialStep '{start}'",
                hint="point a nextStep or a nextStepRules item at it, or remove it",
            )


def _step_rules(doc: Document, path: DocPath, step: dict[str, Any]) -> Iterator[Finding]:
    key = step.get("key")
    has_next = "nextStep" in step and step.get("nextStep") is not None
    if step.get("final") is True and has_next:
        yield doc.finding(
            "final-with-next-step",
            (*path, "nextStep"),
            f"step '{key}' is final but also names nextStep '{step.get('nextStep')}'",
            hint="remove one: a final step ends the task",
        )
    if step.get("final") is not True and not has_next:
        yield doc.finding(
            "implicit-end",
            (*path, "key"),
            f"step '{key}' has neither `final` nor `nextStep`: the task ends after it",
            hint="add `final: true` to say so",
        )
    on_error = 0
    for rpath, rule in items(doc.data, (*path, "nextStepRules")):
        if rule.get("if") == "callback" and not text(rule.get("ifCallback")):
            yield doc.finding(
                "missing-if-callback",
                (*rpath, "if"),
                "a rule with `if: callback` needs `ifCallback`",
                hint="name the callback that decides this branch",
            )
        if rule.get("if") == "onError":
            on_error += 1
            if on_error > 1:
                yield doc.finding(
                    "multiple-on-error",
                    (*rpath, "if"),
                    f"step '{key}' has more than one onError rule; only the first would apply",
                )
