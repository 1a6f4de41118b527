"""Data rules: JTD schemas are valid, `from` attributes and {{ }} references resolve."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import jtd
from ..document import Document, get_in
from ..findings import DocPath, Finding
from ..jsontext import loads_limited
from ..templating import ROOTS, TemplateError, parse_ref, refs_in
from .graph import StepGraph, task_graphs
from .walk import delays, did_you_mean, items, known, text

S: DocPath = ("settings",)
VALIDATION: DocPath = (*S, "config", "instanceValidation")


def check_data(doc: Document) -> Iterator[Finding]:
    schema = get_in(doc.data, VALIDATION)
    schema_ok = True
    config = get_in(doc.data, VALIDATION[:-1])
    if isinstance(config, dict) and VALIDATION[-1] in config and not isinstance(schema, dict):
        # null, a list or a scalar: RFC 8927 schemas are objects (schema.py leaves this to us)
        yield doc.finding(
            "invalid-jtd-schema",
            VALIDATION,
            "instanceValidation: a JTD schema must be an object",
            hint="write {properties: {...}}, or remove instanceValidation",
        )
    if isinstance(schema, dict):
        problems = jtd.check_schema(schema)
        schema_ok = not problems
        for sub, message in problems:
            yield doc.finding(
                "invalid-jtd-schema", (*VALIDATION, *sub), f"instanceValidation: {message}"
            )
    yield from _method_schemas(doc)
    props = _declared(schema) if isinstance(schema, dict) and schema_ok else None
    yield from _from_attributes(doc, props)
    yield from _templates(doc, props)


def _declared(schema: dict[str, Any]) -> dict[str, Any] | None:
    """Declared top-level attributes, or None when the schema does not pin them down."""
    if not ({"properties", "optionalProperties"} & schema.keys()) or schema.get(
        "additionalProperties"
    ):
        return None
    return {**schema.get("optionalProperties", {}), **schema.get("properties", {})}


def _method_schemas(doc: Document) -> Iterator[Finding]:
    for spath, _ in items(doc.data, (*S, "services")):
        for mpath, method in items(doc.data, (*spath, "methods")):
            raw = method.get("requestValidation")
            if isinstance(raw, str):
                try:
                    parsed = loads_limited(raw)
                except ValueError as exc:
                    yield doc.finding(
                        "invalid-jtd-schema",
                        (*mpath, "requestValidation"),
                        f"requestValidation is not JSON: {exc}",
                        hint="requestValidation is a JTD schema written as a JSON string",
                    )
                    continue
                for _, message in jtd.check_schema(parsed):
                    yield doc.finding(
                        "invalid-jtd-schema",
                        (*mpath, "requestValidation"),
                        f"requestValidation: {message}",
                    )
            response = method.get("responseValidation")
            if isinstance(response, dict):
                for sub, message in jtd.check_schema(response):
                    yield doc.finding(
                        "invalid-jtd-schema",
                        (*mpath, "responseValidation", *sub),
                        f"responseValidation: {message}",
                    )


def _from_attributes(doc: Document, props: dict[str, Any] | None) -> Iterator[Finding]:
    if props is None:
        return
    for path, delay, _ in delays(doc.data):
        name = delay.get("from")
        if not isinstance(name, str):
            continue
        if name not in props:
            yield doc.finding(
                "invalid-from-attribute",
                (*path, "from"),
                f"`from: {name}` names no attribute of instanceValidation",
                hint=did_you_mean(name, props) or known(props),
            )
        elif not _is_time(props[name], get_in(doc.data, VALIDATION)):
            yield doc.finding(
                "invalid-from-attribute",
                (*path, "from"),
                f"attribute '{name}' is not declared as a timestamp or string",
                hint="declare it with `type: timestamp` (or `string` for YYYY-MM-DD dates)",
            )


def _is_time(schema: Any, root: Any) -> bool:
    """A timestamp or string schema, following `ref`s into the root's definitions."""
    for _ in range(16):  # refs can chain; a loop of refs is no timestamp
        if not isinstance(schema, dict):
            return False
        if "ref" not in schema:
            return schema.get("type") in ("timestamp", "string")
        schema = (
            (root.get("definitions") or {}).get(schema["ref"]) if isinstance(root, dict) else None
        )
    return False


def _templates(doc: Document, props: dict[str, Any] | None) -> Iterator[Finding]:
    users = _steps_using_actions(doc)
    for apath, action in items(doc.data, (*S, "actions")):
        for field in ("headers", "params", "data", "attributes"):
            for loc, expr in refs_in(action.get(field)):
                path = (*apath, field, *loc)
                yield from _check_ref(doc, path, expr, props, users.get(str(action.get("key")), []))
    for spath, _ in items(doc.data, (*S, "services")):
        for apath, auth in items(doc.data, (*spath, "authorization")):
            for field in ("headers", "params", "data", "attributes", "url"):
                for loc, expr in refs_in(auth.get(field)):
                    yield from _check_ref(doc, (*apath, field, *loc), expr, props, [])


def _check_ref(
    doc: Document,
    path: DocPath,
    expr: str,
    props: dict[str, Any] | None,
    users: list[tuple[StepGraph, str]],
) -> Iterator[Finding]:
    try:
        tokens = parse_ref(expr)
    except TemplateError as exc:
        yield doc.finding("template-syntax", path, str(exc), hint="write {{ root.name.name }}")
        return
    root = tokens[0]
    if root not in ROOTS:
        yield doc.finding(
            "template-unknown-root",
            path,
            f"'{{{{ {expr.strip()} }}}}' starts with unknown root '{root}'",
            hint=did_you_mean(str(root), ROOTS) or f"roots: {', '.join(sorted(ROOTS))}",
        )
    elif root == "attributes" and props is not None and len(tokens) > 1 and tokens[1] not in props:
        yield doc.finding(
            "template-unknown-attribute",
            path,
            f"'{{{{ {expr.strip()} }}}}': attribute '{tokens[1]}' is not in instanceValidation",
            hint=did_you_mean(str(tokens[1]), props) or known(props),
        )
    elif root == "steps" and len(tokens) > 1:
        yield from _check_step_ref(doc, path, expr, str(tokens[1]), users)


def _check_step_ref(
    doc: Document, path: DocPath, expr: str, target: str, users: list[tuple[StepGraph, str]]
) -> Iterator[Finding]:
    for graph, user in users:
        if target not in graph.steps:
            reason = f"there is no step '{target}' in the task of step '{user}'"
        elif user not in _forward(graph, target):
            reason = f"step '{target}' cannot have run before step '{user}'"
        else:
            continue
        yield doc.finding(
            "template-step-not-before",
            path,
            f"'{{{{ {expr.strip()} }}}}': {reason}",
            hint=did_you_mean(target, graph.steps) if target not in graph.steps else None,
        )
        return


def _forward(graph: StepGraph, start: str) -> set[str]:
    """Steps that can run after `start` in the same attempt."""
    out: set[str] = set()
    for nxt in graph.successors(start):
        out |= graph.reachable(nxt)
    return out


def _steps_using_actions(doc: Document) -> dict[str, list[tuple[StepGraph, str]]]:
    users: dict[str, list[tuple[StepGraph, str]]] = {}
    for _, _, graph in task_graphs(doc):
        for key, step in graph.steps.items():
            action = text(step.get("action"))
            if action is not None:
                users.setdefault(action, []).append((graph, key))
    return users
