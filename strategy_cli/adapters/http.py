"""All HTTP to partner services: one httpx.AsyncClient per run, driven from the engine's steps.

The engine is synchronous and runs attempts in worker threads; each request is handed to the
run's event loop, where one AsyncClient keeps the connection pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core import jtd
from ..core.attempt import StepCall, StepOutcome, run_controller
from ..core.callbacks import Callbacks
from ..core.jsontext import loads_limited
from ..core.models import Authorization, Service, Settings
from ..core.redaction import Redactor
from ..core.requests import (
    PlannedRequest,
    RequestError,
    authorization_for,
    base_url,
    build,
    check_sendable,
    is_header_value,
    lookup_action,
)
from .environ import resolve_env


class AuthorizationFailed(Exception):
    """The token request was sent and did not give a credential: a delivery failure."""


class RequestAbandoned(Exception):
    """A request cut short because the run was stopped (a second Ctrl-C or SIGTERM)."""

    def __init__(self) -> None:
        super().__init__("the run was stopped before the response arrived")


class ResponseTooLarge(Exception):
    """A response body longer than the run's limit (`max-response-bytes`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes (max-response-bytes)")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    elapsed_ms: int


class LoopBridge:
    """An event loop in a background thread owning one httpx.AsyncClient."""

    def __init__(self, timeout: float, concurrency: int, max_bytes: int) -> None:
        import httpx

        self.max_bytes = max_bytes
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="strategy-http", daemon=True
        )
        self.thread.start()
        limits = httpx.Limits(
            max_connections=max(concurrency, 1) * 2, max_keepalive_connections=concurrency
        )

        async def make() -> Any:
            return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)

        self.client = asyncio.run_coroutine_threadsafe(make(), self.loop).result()
        self._inflight: set[concurrent.futures.Future[Reply]] = set()
        self._abandoned = False

    def send(self, method: str, url: str, **kwargs: Any) -> Reply:
        if self._abandoned:
            raise RequestAbandoned()
        future = asyncio.run_coroutine_threadsafe(self._send(method, url, **kwargs), self.loop)
        self._inflight.add(future)
        if self._abandoned:  # abandon() ran between the check above and the line before
            future.cancel()
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise RequestAbandoned() from None
        finally:
            self._inflight.discard(future)

    def abandon(self) -> None:
        """Cancel the requests in flight and refuse new ones: the run is stopping now and will
        store nothing of the attempts that sent them."""
        self._abandoned = True
        for future in list(self._inflight):
            future.cancel()

    async def _send(self, method: str, url: str, **kwargs: Any) -> Reply:
        started = time.perf_counter()
        async with self.client.stream(method.upper(), url, **kwargs) as response:
            body = await _read_capped(response, self.max_bytes)
        elapsed = int((time.perf_counter() - started) * 1000)
        text = body.decode(response.encoding or "utf-8", errors="replace")
        return Reply(response.status_code, dict(response.headers), text, elapsed)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, service: str, ok: bool) -> None:
        with self.lock:
            self.calls[service] += 1
            if not ok:
                self.errors[service] += 1


class HttpExecutor:
    """Executes action steps as real HTTP calls (docs/semantics.md section 8)."""

    def __init__(
        self,
        settings: Settings,
        env: str | None,
        send: Callable[..., Reply],
        redactor: Redactor,
        stats: Stats | None = None,
    ) -> None:
        self.settings = settings
        self.env = env
        self.send = send
        self.redactor = redactor
        self.stats = stats or Stats()
        self.tokens: dict[tuple[str, str | None], str] = {}
        self.token_lock = threading.Lock()
        config = settings.config
        self.delay_s = (config.requestDelayTime or 0) / 1000 if config else 0.0
        self._pace_lock = threading.Lock()
        self._last_call: float | None = None
        self._resolved: dict[str, Settings] = {}

    def execute(self, call: StepCall, callbacks: Callbacks) -> StepOutcome:
        if not call.step.action:
            return run_controller(call, callbacks)
        try:
            request = self._prepare(call)
        except RequestError as exc:  # nothing was sent: the strategy or its environment is wrong
            message = self.redactor.scrub(str(exc))
            return StepOutcome(False, message=message, configuration_error=True)
        except AuthorizationFailed as exc:
            return StepOutcome(False, message=str(exc))
        return self._perform(call, request)

    def _prepare(self, call: StepCall) -> PlannedRequest:
        key = str(call.step.action)
        request = build(self._with_env(key), key, call.context(), self.env)
        _check_request(request)
        what = f"action '{key}'"
        check_sendable(request.url, request.headers, what)  # before a token is fetched for it
        request.headers.update(self._auth_header(request.service))
        check_sendable(request.url, request.headers, what)
        # <event sid>:<step key>:<attempt>; `_serial` is the attempt number, except that it is
        # never reset, so a key is never reused by a later attempt (see Engine.start_attempt).
        attempt = call.event.get("_serial") or call.event.get("attempt") or 0
        request.headers["X-Correlation-Id"] = str(
            call.event.get("correlationId") or call.event["sid"]
        )
        request.headers["Idempotency-Key"] = f"{call.event['sid']}:{call.step.key}:{attempt}"
        return request

    def _with_env(self, key: str) -> Settings:
        """The settings with `${env:NAME}` resolved in what this action's request is built from.

        Resolution happens on the strategy's own strings, *before* `{{ }}` references are
        rendered: a value coming from attributes, event data or responses that happens to
        contain `${env:...}` is sent as it is, never expanded (no environment leaks).
        """
        if key in self._resolved:
            return self._resolved[key]
        action, service, method = lookup_action(self.settings, key)
        chosen = base_url(service, self.env)
        parts = [action.headers, action.params, action.data, method.url, chosen]
        if "${env:" not in json.dumps(parts, default=str):
            self._resolved[key] = self.settings
            return self.settings
        r = self.redactor
        resolved_method = method.model_copy(update={"url": resolve_env(method.url, r)})
        resolved_service = service.model_copy(
            update={
                "baseUrls": [
                    b.model_copy(update={"url": resolve_env(b.url, r)}) if b.url == chosen else b
                    for b in service.baseUrls
                ],
                "methods": [resolved_method if m.key == method.key else m for m in service.methods],
            }
        )
        resolved_action = action.model_copy(
            update={
                "headers": resolve_env(action.headers, r),
                "params": resolve_env(action.params, r),
                "data": resolve_env(action.data, r),
            }
        )
        settings = self.settings.model_copy(
            update={"actions": [resolved_action], "services": [resolved_service]}
        )
        self._resolved[key] = settings
        return settings

    def _pace(self) -> None:
        """`config.requestDelayTime`: calls of this strategy start at least that far apart
        (the first one waits it too), however many attempts run at once."""
        if not self.delay_s:
            return
        with self._pace_lock:
            now = time.monotonic()
            last = self._last_call
            at = now + self.delay_s if last is None else max(now, last + self.delay_s)
            if at > now:
                time.sleep(at - now)
            self._last_call = at

    def _perform(self, call: StepCall, request: PlannedRequest) -> StepOutcome:
        self._pace()
        self.redactor.learn(request.url, request.headers, request.params)
        described = self.redactor.scrub_request(request.describe())
        try:
            reply = self.send(
                request.verb,
                request.url,
                headers=request.headers,
                params=request.params or None,
                json=request.body,
            )
        except _unsendable() as exc:  # refused by the HTTP library before anything left
            return StepOutcome(
                False,
                message=f"the request of action '{call.step.action}' cannot be sent "
                f"({type(exc).__name__})",
                httpData={"request": described, "response": {"error": type(exc).__name__}},
                configuration_error=True,
            )
        except Exception as exc:
            self.stats.count(request.service.key, False)
            return StepOutcome(
                False,
                message=self.redactor.scrub(_transport_message(exc, request.url)),
                httpData={"request": described, "response": {"error": type(exc).__name__}},
            )
        self.redactor.learn(headers=reply.headers)
        outcome = _judge(reply, request)
        self.stats.count(request.service.key, outcome.success)
        # The body is kept once, as the step's `data`: a copy here would store it twice.
        response = {
            "status": reply.status,
            "headers": self.redactor.scrub_headers(reply.headers),
            "elapsed": reply.elapsed_ms,
        }
        outcome.httpData = {"request": described, "response": response}
        outcome.data = self.redactor.scrub(outcome.data)
        outcome.message = self.redactor.scrub(outcome.message)
        outcome.hold = outcome.success and bool(request.method.async_)
        return outcome

    def _auth_header(self, service: Service) -> dict[str, str]:
        auth = authorization_for(service, self.env)
        if auth is None:
            return {}
        key = (service.key, auth.environment)
        with self.token_lock:
            token = None if auth.noCache else self.tokens.get(key)
            if token is None:
                token = self._fetch_token(service, auth)
                if not auth.noCache:
                    self.tokens[key] = token
        kind = auth.credentialType or service.credentialType or "Bearer"
        return {"Authorization": f"{kind} {token}"}

    def _fetch_token(self, service: Service, auth: Authorization) -> str:
        url = resolve_env(auth.url, self.redactor)
        headers = resolve_env(auth.headers or {}, self.redactor)
        params = resolve_env(auth.params or {}, self.redactor)
        body = resolve_env(auth.data, self.redactor)
        self.redactor.learn(url, headers, params)
        check_sendable(url, headers, f"the authorization request of service '{service.key}'")
        try:
            reply = self.send(auth.method, url, headers=headers, params=params or None, json=body)
        except _unsendable() as exc:
            raise RequestError(
                f"the authorization request of service '{service.key}' cannot be sent "
                f"({type(exc).__name__})"
            ) from None
        except Exception as exc:
            message = _transport_message(exc, url)
            raise AuthorizationFailed(
                self.redactor.scrub(f"authorization for '{service.key}': {message}")
            ) from None
        if not 200 <= reply.status < 300:
            raise AuthorizationFailed(
                f"authorization for '{service.key}' answered HTTP {reply.status}"
            )
        path = auth.credentialPath or service.credentialPath or "access_token"
        token = _dig(_json_or_none(reply.text), path)
        if not isinstance(token, str | int) or token == "":
            raise AuthorizationFailed(
                f"authorization for '{service.key}': no credential at '{path}' in its response"
            )
        self.redactor.add(str(token))
        if not is_header_value(str(token)):  # the service's fault: it was asked, it answered
            raise AuthorizationFailed(
                f"authorization for '{service.key}': the credential at '{path}' in its response "
                "cannot be sent in a header (a line break, a control character, or not ASCII)"
            )
        return str(token)


def _check_request(request: PlannedRequest) -> None:
    raw = request.method.requestValidation
    if not raw:
        return
    schema = loads_limited(raw)
    problems = jtd.describe(schema, request.body)
    if problems:
        raise RequestError(f"request body fails requestValidation: {problems[0]}")


def _judge(reply: Reply, request: PlannedRequest) -> StepOutcome:
    body = _json_or_none(reply.text)
    data: Any = body if body is not None or not reply.text else reply.text
    if not 200 <= reply.status < 300:
        return StepOutcome(False, data=data, message=f"HTTP {reply.status} from {request.url}")
    schema = request.method.responseValidation
    if schema is not None:
        if body is None and reply.text.strip() not in ("null",):
            return StepOutcome(
                False, data=data, message="response is not JSON (responseValidation needs JSON)"
            )
        problems = jtd.describe(schema, body)
        if problems:
            return StepOutcome(
                False, data=data, message=f"response fails responseValidation: {problems[0]}"
            )
    return StepOutcome(True, data=data)


def _json_or_none(text: str) -> Any:
    try:
        return loads_limited(text) if text else None
    except ValueError:
        return None


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


async def _read_capped(response: Any, limit: int) -> bytes:
    """The body, streamed, up to `limit` bytes (decoded: a compressed bomb stops there too);
    a longer one raises without being read any further."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(limit)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise ResponseTooLarge(limit)
    return bytes(body)


def _unsendable() -> tuple[type[BaseException], ...]:
    """What the HTTP library raises for a request it refuses to put on the wire (after the
    checks of core/requests.py, only what they do not foresee)."""
    import httpx

    return (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError, UnicodeError)


def _transport_message(exc: Exception, url: str) -> str:
    import httpx

    if isinstance(exc, ResponseTooLarge):
        return f"response too large from {url}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out calling {url}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: {exc}"
    return f"{type(exc).__name__} calling {url}: {exc}"
