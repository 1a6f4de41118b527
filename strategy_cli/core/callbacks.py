"""Callbacks by name (SEMANTICS.md section 5): the engine asks, a provider answers.

The runner's provider imports user modules (adapters/callbacks.py); the simulator's answers from
the scenario. Both fall back to the declared defaults below for names they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
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
