"""User callbacks: Python modules whose functions implement callbacks by name.

A module registers a callback either as a module-level function with the callback's name, or in a
`CALLBACKS = {"name": function}` mapping (which wins). Each function receives one argument, the
read-only context mapping, and returns a value (see docs/callbacks.md). A strategy may also name a
callback `module.function` (the module's `__name__`, e.g. `my_callbacks.approve`).

A name that no module defines fails the step that uses it (controller, controllerCallback,
resumeControllerCallback, ifCallback); the schedule's callbacks (createIf, runOnCycleCallback,
nextCycleDateCallback, retryEventCallback) fall back to their declared defaults.

Importing runs the module: only the commands that execute or steer instances do it. `validate`
reads the source instead (adapters/callback_source.py).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ..core.callbacks import DEFAULTS, CallbackError, CallbackKind, answers_to
from ..errors import UsageError

# Callbacks that belong to a step: an unknown name fails that step (docs/semantics.md section 7).
STEP_KINDS = frozenset(
    {"controller", "controllerCallback", "resumeControllerCallback", "ifCallback"}
)


class ModuleCallbacks:
    """Callbacks from imported modules; unknown names fall back to the declared defaults."""

    def __init__(self, registry: Mapping[str, Callable[..., Any]], env: str | None = None) -> None:
        self.registry = dict(registry)
        self.env = env

    def call(self, name: str, kind: CallbackKind, context: Mapping[str, Any]) -> Any:
        fn = self.registry.get(name)
        if fn is None:
            if kind in STEP_KINDS:
                raise CallbackError(f"callback '{name}' is not defined in any --callbacks module")
            return DEFAULTS[kind]
        try:
            return fn(MappingProxyType({**context, "env": self.env, "kind": kind}))
        except Exception as exc:
            raise CallbackError(f"callback '{name}' raised {type(exc).__name__}: {exc}") from exc

    def known(self) -> set[str]:
        return set(self.registry)


def load_callbacks(
    modules: Iterable[str], env: str | None = None, search: Iterable[str] = ()
) -> ModuleCallbacks:
    """Import callback modules; `search` adds folders (a config file's own folder) to look in."""
    registry: dict[str, Callable[..., Any]] = {}
    for folder in (os.getcwd(), *search):  # modules next to the strategies, as users expect
        if folder not in sys.path:
            sys.path.insert(0, folder)
    for name in modules:
        module = _import(name)
        own = _registry_of(module)
        # `module.function` names work too, so strategies can say where a callback lives.
        registry.update(
            {alias: own[key] for alias, key in answers_to(module.__name__, own).items()}
        )
    return ModuleCallbacks(registry, env)


def _import(name: str) -> Any:
    try:
        if name.endswith(".py") and os.path.isfile(name):
            return _import_file(name)
        return importlib.import_module(name)
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(
            f"--callbacks {name}: cannot import: {type(exc).__name__}: {exc}"
        ) from None


def _import_file(path: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--callbacks {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry_of(module: Any) -> dict[str, Callable[..., Any]]:
    explicit = getattr(module, "CALLBACKS", None)
    found = {
        k: v
        for k, v in vars(module).items()
        if callable(v)
        and not k.startswith("_")
        and getattr(v, "__module__", None) == module.__name__
    }
    if isinstance(explicit, Mapping):
        found.update({str(k): v for k, v in explicit.items() if callable(v)})
    return found
