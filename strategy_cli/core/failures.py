"""Why attempts failed, grouped: the closing summary of `strategy run` (docs/running.md).

A failed attempt's message names one request (`cannot connect to https://host/path?q=1: [Errno
111] Connection refused`); a reason keeps what the same cause has in common across events and
instances, so that a hundred refused connections are one line with a count: URLs become their
host, and the detail after a host (an errno, a validation path) is dropped. Messages come from
the store, already redacted; a reason only ever shortens them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .models import Settings
from .requests import RequestError, lookup_action

# A URL in a message ends before whitespace, quotes, and the punctuation of the message around it.
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>:,.;)]")
_HTTP_STATUS = re.compile(r"^HTTP (\d{3}) from \S+$")
# Validation messages go on with the first problem found in that one body: drop it.
_VALIDATION = re.compile(
    r"^(response fails responseValidation|request body fails requestValidation)"
)
_INTERNAL = re.compile(r"^(internal error: [\w.]+)")
CONFIGURATION = "configuration error: "
# A callback's own message may be a paragraph: a reason is one line of at most this many.
MAX_REASON = 100
SHOWN_GROUPS = 5


def failure_reason(message: str | None, service: str | None = None) -> str:
    """The reason of one failed attempt; `service` is the key of the service whose request
    failed, when known (an HTTP status is grouped by service and status)."""
    lines = (message or "").strip().splitlines()
    if not lines:
        return "failed without a message"
    text = lines[0]
    if text.startswith(CONFIGURATION):
        return CONFIGURATION + failure_reason(text[len(CONFIGURATION) :], service)
    text = _hosts(text)
    status = _HTTP_STATUS.match(text)
    if status and service:
        return f"HTTP {status.group(1)} from service '{service}'"
    for pattern in (_VALIDATION, _INTERNAL):
        found = pattern.match(text)
        if found:
            text = found.group(1)
            return f"{text} (service '{service}')" if service and pattern is _VALIDATION else text
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def failed_service(settings: Settings, event: dict[str, Any]) -> str | None:
    """The key of the service the failing step called: the step whose result carries the
    event's error message."""
    message = str(event.get("errorMessage") or "").removeprefix(CONFIGURATION)
    results = (event.get("taskStatus") or {}).get("taskResults") or []
    key = next(
        (r.get("step") for r in reversed(results) if r.get("message") == message),
        None,
    )
    task = next((t for t in settings.tasks if t.key == event.get("task")), None)
    step = next((s for s in task.steps if s.key == key), None) if task and key else None
    if step is None or not step.action:
        return None
    try:
        return lookup_action(settings, step.action)[1].key
    except RequestError:
        return None


def _hosts(text: str) -> str:
    """Each URL as its host (and port); after the first, whatever detail follows `host: `."""
    found = _URL.search(text)
    if found is None:
        return text
    rest = text[found.end() :]
    if rest.startswith(":"):
        rest = ""  # `cannot connect to URL: [Errno 111] ...`: the errno is per attempt
    return text[: found.start()] + _host(found.group(0)) + _URL.sub(lambda m: _host(m[0]), rest)


def _host(url: str) -> str:
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # a bracket left open: not a URL after all
        return url
    return netloc.rpartition("@")[2] or url  # without user info (already redacted anyway)


@dataclass(frozen=True)
class Grouped:
    """The most frequent reasons, with their counts, and what is left over."""

    shown: list[tuple[str, int]]
    more_reasons: int
    more_attempts: int


def grouped(reasons: Counter[str], limit: int = SHOWN_GROUPS) -> Grouped:
    """Most frequent first (first seen first among equals); past `limit`, a count of the rest."""
    ranked = reasons.most_common()
    rest = ranked[limit:]
    return Grouped(ranked[:limit], len(rest), sum(n for _, n in rest))
