"""Redaction: secrets never leave, whether a request is sent, simulated, stored or printed."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

REDACTED = "***"
SECRET_HEADERS = frozenset({"authorization", "strategy-secret", "proxy-authorization", "x-api-key"})


class Redactor:
    """Remembers every secret value of a run and scrubs it from anything stored or printed."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = {n.lower() for n in names} | SECRET_HEADERS
        self.values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            with self._lock:
                self.values.add(value)

    def scrub(self, value: Any, key: str | None = None) -> Any:
        if key is not None and key.lower() in self.names:
            return REDACTED
        if isinstance(value, dict):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, str):
            for secret in sorted(self.values, key=len, reverse=True):
                if secret in value:
                    value = value.replace(secret, REDACTED)
        return value
