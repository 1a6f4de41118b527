"""Redaction: secrets never leave, whether a request is sent, simulated, stored or printed.

Three rules, applied to everything a run stores or prints (docs/running.md, "Redaction"):
- by value: every secret the run has seen, in each shape it takes in a message, a URL or a JSON
  text (`forms`), longest first;
- by name: fields named like a secret (`SECRET_HEADERS`, `config.redact`) anywhere, and headers
  and query parameters whose names contain a credential word;
- by pattern: the user info of any URL and the value of credential-named query parameters.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

REDACTED = "***"
# Shorter values ("1", "yes", "eur") occur everywhere: hiding each occurrence would garble every
# record while protecting nothing, since a value that short is not a secret worth the name.
MIN_SECRET_LENGTH = 4
SECRET_HEADERS = frozenset({"authorization", "strategy-secret", "proxy-authorization", "x-api-key"})
# A query parameter or a header whose name contains one of these holds a credential.
CREDENTIAL_WORDS = ("token", "secret", "key", "password", "signature")
HEADER_WORDS = (*CREDENTIAL_WORDS, "auth", "cookie")
# Headers of our own that match a word but carry no credential, kept for diagnosis.
PUBLIC_HEADERS = frozenset({"idempotency-key"})

_WORDS = "|".join(CREDENTIAL_WORDS)
_USER_INFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
# The value ends where a URL would (or before the punctuation of the message around it); a name
# never spans a separator, so that a long text is scanned in linear time.
_QUERY_CREDENTIAL = re.compile(
    rf"(?i)([?&;][^=&#;?\s]*(?:{_WORDS})[^=&#;?\s]*=)[^&#\s'\"<>]*[^&#\s'\"<>:,.;)]"
)


def forms(secret: str) -> set[str]:
    """The shapes a secret takes: raw, stripped (a trailing CR/LF is a common paste accident),
    percent-encoded (in URLs and form bodies), JSON-escaped and Python-quoted (in error texts,
    e.g. httpx's "Illegal header value b'...\\r'")."""
    shapes = {
        secret,
        secret.strip(),
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
    }
    return {s for s in shapes if len(s) >= MIN_SECRET_LENGTH}


def credential_header(name: str) -> bool:
    lowered = name.lower()
    return lowered not in PUBLIC_HEADERS and any(w in lowered for w in HEADER_WORDS)


def credential_param(name: str) -> bool:
    lowered = name.lower()
    return any(w in lowered for w in CREDENTIAL_WORDS)


def scrub_patterns(text: str) -> str:
    """URL user info and credential-named query parameters, in any text."""
    if "://" in text:
        text = _USER_INFO.sub(rf"\1{REDACTED}@", text)
    if "=" in text:
        text = _QUERY_CREDENTIAL.sub(rf"\1{REDACTED}", text)
    return text


class Redactor:
    """Remembers every secret value of a run and scrubs it from anything stored or printed."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = {n.lower() for n in names} | SECRET_HEADERS
        self.values: set[str] = set()  # every shape of every secret
        self._added: set[str] = set()
        self._longest_first: list[str] = []
        self._lock = threading.Lock()

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or value in self._added:
            return  # (the last: a token learnt again from every request it is sent with)
        new = forms(value) - self.values
        with self._lock:
            self._added.add(value)
            if new:
                self.values |= new
                # Longest first: when one secret contains another, replacing the shorter one
                # first would leave the rest of the longer one in the clear.
                self._longest_first = sorted(self.values, key=len, reverse=True)

    def learn(
        self, url: str = "", headers: Mapping[str, Any] | None = None, params: Any = None
    ) -> None:
        """Credentials a request or response carries in the clear: the password of a URL's
        user info, credential-named query parameters and headers (cookie values included)."""
        try:
            parts = urlsplit(url)
        except ValueError:  # not a URL (a bracket left open): its text is still scrubbed
            parts = urlsplit("")
        if parts.password:
            self.add(parts.password)
            self.add(unquote(parts.password))
        pairs = parse_qsl(parts.query) + list(dict(params or {}).items())
        for name, value in pairs:
            if credential_param(str(name)):
                self.add(str(value))
        for name, value in (headers or {}).items():
            if credential_header(str(name)):
                self._add_header(str(name), str(value))

    def _add_header(self, name: str, value: str) -> None:
        self.add(value)
        if "cookie" in name.lower():
            self._add_cookies(value, every=name.lower() == "cookie")
        else:
            self.add(value.rpartition(" ")[2])  # "Bearer <credential>"

    def _add_cookies(self, value: str, every: bool) -> None:
        """`Cookie: a=1; b=2` holds only values; each `Set-Cookie` (httpx joins several with
        ", ") starts with its value and goes on with attributes (Path, Expires) that do not."""
        pieces = value.split(";") if every else [p.split(";")[0] for p in value.split(",")]
        for piece in pieces:
            _, eq, text = piece.partition("=")
            if eq:
                self.add(text.strip())

    def scrub(self, value: Any, key: str | None = None) -> Any:
        if key is not None and key.lower() in self.names:
            return REDACTED
        if isinstance(value, dict):
            return {k: self.scrub(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, str):
            for secret in self._longest_first:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return scrub_patterns(value)
        return value

    def scrub_headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Headers, in either direction: a credential-named one is hidden whole."""
        return {
            k: REDACTED if credential_header(str(k)) else self.scrub(v, str(k))
            for k, v in headers.items()
        }

    def scrub_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: REDACTED if credential_param(str(k)) else self.scrub(v, str(k))
            for k, v in params.items()
        }

    def scrub_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A described request (method, url, headers, params, body)."""
        by_name = {"headers": self.scrub_headers, "params": self.scrub_params}
        return {
            k: by_name[k](v or {}) if k in by_name else self.scrub(v, k) for k, v in request.items()
        }

    @contextmanager
    def guarding(self) -> Iterator[None]:
        """Any exception escaping the block leaves with its text scrubbed."""
        try:
            yield
        except BaseException as exc:
            self.scrub_exception(exc)
            raise

    def scrub_exception(self, exc: BaseException) -> None:
        """An exception's text (and its causes' and contexts'), in place: what the error
        boundary prints, and a `--debug` traceback, show no secret."""
        pending, seen = [exc], set()
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            current.args = tuple(self.scrub(a) for a in current.args)
            for attribute in ("message", "hint"):  # StrategyError's, printed as they are
                if isinstance(getattr(current, attribute, None), str):
                    setattr(current, attribute, self.scrub(getattr(current, attribute)))
            pending += [e for e in (current.__cause__, current.__context__) if e is not None]
