"""Callbacks by name (docs/semantics.md section 7): the engine asks, a provider answers.

The runner's provider imports user modules (adapters/callbacks.py); the simulator's answers from
the scenario. Both fall back to the declared defaults below for names they do not know.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

CallbackKind = Literal[
    "controller",
    "controllerCallback",
    "resumeControllerCallback",
    "ifCallback",
    "createIf",
    "runOnCycleCallback",
    "nextCycleDateCallback",
    "retryEventCallback",
]

# Every key under which a strategy names a callback.
CALLBACK_KINDS: tuple[str, ...] = get_args(CallbackKind)

# What a callback returns when nobody implements it: the strategy behaves as if it were absent.
DEFAULTS: Mapping[str, Any] = {
    "controller": None,
    "controllerCallback": None,
    "resumeControllerCallback": None,
    "ifCallback": False,
    "createIf": True,
    "runOnCycleCallback": False,
    "nextCycleDateCallback": None,
    "retryEventCallback": None,
}


class CallbackError(RuntimeError):
    """A callback raised or returned something unusable; the message is stored on the step."""


class Callbacks(Protocol):
    def call(self, name: str, kind: CallbackKind, context: Mapping[str, Any]) -> Any: ...


class DefaultCallbacks:
    """Every callback returns its declared default."""

    def call(self, name: str, kind: CallbackKind, context: Mapping[str, Any]) -> Any:
        return DEFAULTS[kind]


# --- Static view: which names a module defines, read from its source without running it -------

# Calls through which a module can define names that no static reading sees.
_DYNAMIC = frozenset({"globals", "exec", "eval", "setattr", "__import__"})
# Methods that add entries to CALLBACKS after the literal.
_ADDS = frozenset({"update", "setdefault", "__setitem__", "__ior__"})
# Values that are never callable, so a public name bound to one registers no callback.
_DATA = (ast.Constant, ast.JoinedStr, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp)


class Uncheckable(ValueError):
    """A module whose callback names cannot be known without running it; says why."""


@dataclass(frozen=True)
class StaticCallbacks:
    """What validate knows of the configured modules: the names they answer to, and the
    modules it could not read statically (module, why)."""

    names: frozenset[str]
    unchecked: tuple[tuple[str, str], ...] = ()


def answers_to(module: str, own: Iterable[str]) -> dict[str, str]:
    """Every name a module's callbacks are known by (`fn`, `module.fn`, `short.fn`) -> `fn`.

    One rule for the runner (which imports) and validate (which reads the source)."""
    short = module.rsplit(".", 1)[-1]
    out: dict[str, str] = {}
    for name in own:
        out[name] = name
        out[f"{short}.{name}"] = name
        if "." not in name:
            out[f"{module}.{name}"] = name
    return out


def names_in_source(source: str | bytes) -> frozenset[str]:
    """The callback names a module's source defines: its public module-level functions (and
    classes and other non-data bindings, which are callable too) and the keys of a literal
    `CALLBACKS = {...}`. Raises Uncheckable when running the module could define others."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise Uncheckable(f"its source cannot be parsed{where}") from None
    _refuse_dynamic(tree)
    names: set[str] = set()
    for node in _top_level(tree.body):
        names |= _bound_names(node)
    return frozenset(n for n in names if not n.startswith("_"))


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside if/try/with/for blocks (they run too)."""
    for node in body:
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in _blocks(node):
                yield from _top_level(block)


def _blocks(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        inner = getattr(node, name, None)
        if isinstance(inner, list):
            yield inner
    for handler in getattr(node, "handlers", None) or []:
        yield handler.body


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets, value = _assignment(node)
    if "CALLBACKS" in targets:
        return _callbacks_keys(value)
    if value is None or isinstance(value, _DATA):
        return set()
    return set(targets)  # `approve = make_approver()` may well be a callable


def _assignment(node: ast.stmt) -> tuple[list[str], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return [n for t in node.targets for n in _target_names(t)], node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return _target_names(node.target), node.value
    if isinstance(node, ast.AugAssign) and _target_names(node.target) == ["CALLBACKS"]:
        raise Uncheckable("CALLBACKS is changed after it is defined")
    return [], None


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    return []


def _callbacks_keys(value: ast.expr | None) -> set[str]:
    keys = value.keys if isinstance(value, ast.Dict) else [None]
    names = [k.value for k in keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if len(names) != len(keys):  # not a dict display, `**other`, or a key that is not a string
        raise Uncheckable("CALLBACKS is not a literal dict with string keys")
    return set(names)


def _refuse_dynamic(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            raise Uncheckable(f"it calls {node.id}(), which can define names at run time")
        if _changes_callbacks(node):
            raise Uncheckable("CALLBACKS is changed after it is defined")


def _changes_callbacks(node: ast.AST) -> bool:
    """`CALLBACKS[...] = f`, `CALLBACKS.update(...)`: entries a literal does not show."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
        target: ast.expr | None = node.value
    elif isinstance(node, ast.Attribute) and node.attr in _ADDS:
        target = node.value
    else:
        return False
    return isinstance(target, ast.Name) and target.id == "CALLBACKS"
