"""Building a service request from an action (docs/semantics.md section 8), without sending it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .models import Action, Authorization, Method, Service, Settings
from .templating import TemplateError, render


class RequestError(ValueError):
    """The request cannot be built or cannot be sent as built: unknown environment, unresolved
    reference, unset variable, a header or URL that no HTTP request can carry. Nothing left the
    client, so it is a configuration error, never a delivery failure (docs/running.md)."""


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


def authorization_for(service: Service, env: str | None) -> Authorization | None:
    """The service's authorization entry for the environment in use. Without --env that is the
    environment of the base URL used (the first), as for the URL itself."""
    if env is None and service.baseUrls:
        env = service.baseUrls[0].environment
    return next((a for a in service.authorization or [] if a.environment == env), None)


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


# RFC 9110 `token`: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# What a header value may hold as sent (RFC 9110 field-value, as h11 checks it): visible ASCII,
# with spaces and tabs only inside; no CR, LF or NUL.
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_sendable(url: str, headers: dict[str, Any], what: str) -> None:
    """Raise RequestError when no HTTP request can carry `url` or `headers` as they are.

    The message names the field (`what`, the header's name), never the value: a value that
    cannot be sent is typically a secret pasted with a stray line break.
    """
    problem = _url_problem(url)
    if problem:
        raise RequestError(f"the URL of {what} cannot be sent: {problem}")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(str(name)):
            raise RequestError(f"header name of {what} cannot be sent: not a valid header name")
        if not is_header_value(str(value)):
            raise RequestError(f"header '{name}' of {what} cannot be sent: {_why(str(value))}")


def is_header_value(value: str) -> bool:
    """Whether an HTTP request can carry `value` as a header's value, as it is."""
    return _HEADER_VALUE.fullmatch(value) is not None


def _url_problem(url: str) -> str | None:
    if _CONTROL.search(url):
        return "it contains a line break or another control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "it is not a valid URL (a bracketed IPv6 host or the port is malformed)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it is not an absolute http(s) URL"
    return None


def _why(value: str) -> str:
    if "\r" in value or "\n" in value:
        return "its value contains a line break (CR or LF)"
    if value != value.strip(" \t"):
        return "its value begins or ends with a space or a tab"
    return "its value contains a control character or a character that is not ASCII"
