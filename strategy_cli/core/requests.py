"""Building a service request from an action (SEMANTICS.md section 6), without sending it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Action, Method, Service, Settings
from .templating import TemplateError, render


class RequestError(ValueError):
    """The request cannot be built: unknown environment, unresolved reference."""


@dataclass(slots=True)
class PlannedRequest:
    service: Service
    method: Method
    url: str
    verb: str
    headers: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.verb.upper(),
            "url": self.url,
            "headers": self.headers,
            "params": self.params,
            "body": self.body,
        }


def lookup_action(settings: Settings, key: str) -> tuple[Action, Service, Method]:
    action = next((a for a in settings.actions if a.key == key), None)
    if action is None:
        raise RequestError(f"action '{key}' is not defined")
    service = next((s for s in settings.services if s.key == action.service), None)
    if service is None:
        raise RequestError(f"service '{action.service}' is not defined")
    method = next((m for m in service.methods if m.key == action.method), None)
    if method is None:
        raise RequestError(f"method '{action.method}' is not a method of '{service.key}'")
    return action, service, method


def base_url(service: Service, env: str | None) -> str:
    if env is None:
        if not service.baseUrls:
            raise RequestError(f"service '{service.key}' has no base URL")
        return service.baseUrls[0].url
    for base in service.baseUrls:
        if base.environment == env:
            return base.url
    known = ", ".join(b.environment for b in service.baseUrls) or "none"
    raise RequestError(
        f"service '{service.key}' has no base URL for environment '{env}' (known: {known})"
    )


def build(
    settings: Settings,
    action_key: str,
    context: dict[str, Any],
    env: str | None,
    lenient: frozenset[str] = frozenset(),
) -> PlannedRequest:
    action, service, method = lookup_action(settings, action_key)
    ctx = {**context, "env": env}
    try:
        url = join_url(base_url(service, env), str(render(method.url, ctx, lenient)))
        headers = render(action.headers or {}, ctx, lenient)
        return PlannedRequest(
            service=service,
            method=method,
            url=url,
            verb=method.method,
            headers={k: _header(v) for k, v in headers.items()},
            params=render(action.params or {}, ctx, lenient),
            body=render(action.data, ctx, lenient) if action.data is not None else None,
        )
    except TemplateError as exc:
        raise RequestError(str(exc)) from None


def join_url(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def _header(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
