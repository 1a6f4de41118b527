"""What `strategy run` checks before it claims an event (docs/running.md, "Configuration errors
versus delivery failures"): that `--env` names an environment of every service the due events
call, and which `${env:NAME}` variables their requests and authorizations need.

Pure: the caller gives the due tasks and the variables that are set. A step that is only
reached on some branch still counts: a branch taken at 3 a.m. must not be the first to find out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .findings import DocPath, format_path
from .lint.walk import did_you_mean, known
from .models import Service, Settings
from .templating import env_refs


@dataclass(frozen=True, slots=True)
class DueTask:
    """A task that due events will run: its strategy (by name, for messages) and settings."""

    strategy: str
    settings: Settings
    task: str


@dataclass(frozen=True, slots=True)
class EnvNeed:
    variable: str
    field: str  # where the strategy names it: settings.actions[0].headers.X-Api-Key
    strategy: str


@dataclass(frozen=True, slots=True)
class _Called:
    """A service a task calls, with its index in `settings.services`."""

    strategy: str
    index: int
    service: Service


def environment_problem(due: Iterable[DueTask], env: str | None) -> str | None:
    """Why `--env` cannot serve the due events (a usage error), or None."""
    if env is None:
        return None
    called = [c for d in due for c in _services_called(d)]
    every = {b.environment for c in called for b in c.service.baseUrls}
    if called and env not in every:
        hint = did_you_mean(env, every)
        return f"--env {env}: no service of the due events defines this environment " + (
            f"({known(every)}); {hint}" if hint else f"({known(every)})"
        )
    for c in called:
        envs = {b.environment for b in c.service.baseUrls}
        if env not in envs:
            return (
                f"--env {env}: service '{c.service.key}' of strategy '{c.strategy}' has no base "
                f"URL for it ({known(envs)}); run the other instances with --instance"
            )
    return None


def env_needs(due: Iterable[DueTask], env: str | None) -> list[EnvNeed]:
    """Every `${env:NAME}` the due tasks' requests and authorizations use, once per field."""
    needs: dict[EnvNeed, None] = {}  # a set that keeps the order found
    for d in due:
        for variable, path in _task_needs(d, env):
            needs[EnvNeed(variable, format_path(path), d.strategy)] = None
    return list(needs)


def missing_message(needs: Iterable[EnvNeed], is_set: Collection[str]) -> str | None:
    """One line naming each unset variable and the first field that needs it, or None."""
    first: dict[str, EnvNeed] = {}
    for need in needs:
        if need.variable not in is_set:
            first.setdefault(need.variable, need)
    if not first:
        return None
    parts = [
        f"{n.variable} (needed by {n.field} of strategy '{n.strategy}')" for n in first.values()
    ]
    noun = "variable" if len(parts) == 1 else "variables"
    verb = "is" if len(parts) == 1 else "are"
    return f"environment {noun} {', '.join(parts)} {verb} not set; no event was run"


def _task_needs(due: DueTask, env: str | None) -> Iterator[tuple[str, DocPath]]:
    settings = due.settings
    actions = _first_by_key(settings.actions)
    s: DocPath = ("settings",)
    for called in _services_called(due):
        yield from _service_needs(called, env)
    for step in _task_steps(settings, due.task):
        if step.action not in actions:
            continue
        i, action = actions[step.action]
        for part in ("headers", "params", "data"):
            yield from _refs(getattr(action, part), (*s, "actions", i, part))
        services = _first_by_key(settings.services)
        if action.service in services:
            si, service = services[action.service]
            methods = _first_by_key(service.methods)
            if action.method in methods:
                mi, method = methods[action.method]
                yield from _refs(method.url, (*s, "services", si, "methods", mi, "url"))


def _service_needs(called: _Called, env: str | None) -> Iterator[tuple[str, DocPath]]:
    """The base URL in use and the authorization entry of `env` (as the runner picks them)."""
    path: DocPath = ("settings", "services", called.index)
    bases = called.service.baseUrls
    chosen = next((i for i, b in enumerate(bases) if env is None or b.environment == env), None)
    if chosen is None:
        return
    yield from _refs(bases[chosen].url, (*path, "baseUrls", chosen, "url"))
    wanted = bases[chosen].environment
    for i, auth in enumerate(called.service.authorization or []):
        if auth.environment == wanted:
            for part in ("url", "headers", "params", "data"):
                yield from _refs(getattr(auth, part), (*path, "authorization", i, part))
            return


def _services_called(due: DueTask) -> list[_Called]:
    settings = due.settings
    actions = _first_by_key(settings.actions)
    services = _first_by_key(settings.services)
    out: dict[int, _Called] = {}
    for step in _task_steps(settings, due.task):
        action = actions.get(str(step.action))
        if action is not None and action[1].service in services:
            i, service = services[action[1].service]
            out.setdefault(i, _Called(due.strategy, i, service))
    return list(out.values())


def _task_steps(settings: Settings, task: str) -> list[Any]:
    found = next((t for t in settings.tasks if t.key == task), None)
    return [s for s in found.steps if s.action] if found is not None else []


def _first_by_key(items: Iterable[Any]) -> dict[str, tuple[int, Any]]:
    """Items by their `key`, the first one winning (as the runner looks them up)."""
    out: dict[str, tuple[int, Any]] = {}
    for i, item in enumerate(items):
        out.setdefault(item.key, (i, item))
    return out


def _refs(value: Any, path: DocPath) -> Iterator[tuple[str, DocPath]]:
    for loc, name in env_refs(value):
        yield name, (*path, *loc)
