"""Loopback HTTP servers for the remote-mode tests: a platform emulator and scripted failures.

Everything binds to 127.0.0.1 on a free port and runs in daemon threads, so a test that forgets
to stop a server cannot hang the run. The CLI under test runs through its real main() (in this
process, or as a subprocess) and talks to them over real sockets.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from clikit import Result, run_main

LOOPBACK = "127.0.0.1"
TASKS_PATH = "/execution-instance/{sid}/get-tasks"

# Remote settings from outside that would point the CLI somewhere else than the test servers.
_REMOTE_VARS = ("STRATEGY_API_URL", "STRATEGY_SECRET", "STRATEGY_DB")


def free_port() -> int:
    """A port nothing listens on right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, alive: Callable[[], bool] | None = None
) -> None:
    """Until something accepts connections on 127.0.0.1:port; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise AssertionError(f"the server exited before listening on port {port}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on {LOOPBACK}:{port} within {timeout} s")


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a CLI subprocess: no remote settings leak in from outside (the
    suite's fixture already keeps proxies to loopback)."""
    env = {k: v for k, v in os.environ.items() if k not in _REMOTE_VARS}
    return {**env, "COLUMNS": "120", **(extra or {})}


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """`strategy ARGS...` in this process, through the real main(), in the same environment."""
    return run_main(*args, env={**dict.fromkeys(_REMOTE_VARS), "COLUMNS": "120", **(env or {})})


# --- scripted servers -------------------------------------------------------------------------


@dataclass
class Reply:
    """One canned answer. `body` may be bytes, str, or anything JSON-serialisable."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (for timeouts)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


Responder = Callable[[Seen], Reply]


class LoopbackServer:
    """A threaded HTTP(S) server on 127.0.0.1 answering with `respond(request)`."""

    def __init__(self, respond: Responder, tls: ssl.SSLContext | None = None) -> None:
        self.respond = respond
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                seen = Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                with outer._lock:
                    outer.seen.append(seen)
                reply = outer.respond(seen)
                if reply.delay and outer._stopping.wait(reply.delay):
                    return
                body, ctype = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": ctype, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that time out close their end; that is expected here

        self._httpd = Server((LOOPBACK, 0), Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port = int(self._httpd.server_address[1])
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    @property
    def hits(self) -> int:
        with self._lock:
            return len(self.seen)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def scripted(*replies: Reply) -> Responder:
    """Answer with the replies in order; the last one repeats forever."""
    queue = list(replies)
    lock = threading.Lock()

    def respond(_: Seen) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def self_signed_context(directory: Path) -> ssl.SSLContext | None:
    """A server TLS context with a fresh self-signed certificate, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


@contextmanager
def serving(respond: Responder, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(respond, tls).start()
    try:
        yield server
    finally:
        server.stop()


# --- the platform emulator --------------------------------------------------------------------

INSTANCE_SID = "00c974cd-8696-45db-9631-6cb5393f67c9"
STRATEGY_SID = "5b1f0a52-2f2d-4c55-9d0e-0f6a2b7f9e11"
EVENT_SIDS = ("8e0c3a51-0d43-4d0c-9a6f-1b2f5e4d3c21", "a7d94c1e-7b7a-4e0e-8f35-3c1b9d2e6f40")


def platform_strategy(secret: str) -> dict[str, Any]:
    """A strategy as the platform embeds it: every documented field, plus unknown ones."""
    delay = {"unit": "days", "amount": 1, "from": "dueDate", "resetTo": {"hour": 9, "minute": 0}}
    return {
        "createdAt": "2026-01-01T08:00:00.000Z",
        "updatedAt": "2026-01-02T08:00:00.000Z",
        "sid": STRATEGY_SID,
        "name": "platform-loans",
        "description": "Emulated platform strategy",
        "secret": secret,
        "version": 3,
        "futureField": 1,
        "settings": {
            "config": {
                "requestDelayTime": 100,
                "manualTrigger": False,
                "timezone": "Europe/Madrid",
                "instanceValidation": {"properties": {"loanId": {"type": "string"}}},
                "futureConfig": {"x": 1},
            },
            "schedule": {
                "initialDelay": {"unit": "hours", "amount": 0},
                "calendars": [
                    {
                        "key": "monthly",
                        "description": "every month",
                        "runOnCycle": 1,
                        "runOnCycleCallback": "cycleCheck",
                        "nextCycleDateCallback": "nextDate",
                        "scheduleAfter": {**delay, "retryEventCallback": "retryPeriod"},
                        "task": "charge",
                        "leadingUpTasks": [
                            {
                                "task": "remind",
                                "scheduleBefore": {"unit": "days", "amount": 3},
                            }
                        ],
                    }
                ],
            },
            "onCreateTasks": [
                {
                    "delayBy": {"unit": "minutes", "amount": 5},
                    "manualTrigger": False,
                    "createIf": "hasEmail",
                    "task": "welcome",
                }
            ],
            "onCancelTasks": [{"task": "goodbye"}],
            "services": [
                {
                    "key": "payments",
                    "description": "payment provider",
                    "baseUrls": [{"environment": "prod", "url": "https://pay.example"}],
                    "authorization": [
                        {
                            "headers": {"X-Client": "cli"},
                            "params": {},
                            "data": {"grant": "client"},
                            "attributes": {},
                            "environment": "prod",
                            "url": "https://auth.example/token",
                            "method": "post",
                            "noCache": False,
                        }
                    ],
                    "credentialPath": "payments/creds",
                    "credentialType": "oauth2",
                    "methods": [
                        {
                            "key": "charge",
                            "description": "charge a card",
                            "url": "/charges",
                            "method": "post",
                            "async": False,
                            "requestValidation": "chargeRequest",
                            "responseValidation": {"properties": {"id": {"type": "string"}}},
                        }
                    ],
                }
            ],
            "tasks": [
                {
                    "key": "charge",
                    "description": "charge the instalment",
                    "retryConfig": {
                        "times": 3,
                        "retryAfter": {"unit": "days", "amount": 1},
                        "pauseBeforeCancel": True,
                        "retryStrategy": [{"unit": "days", "amount": 2}],
                    },
                    "initialStep": "pay",
                    "steps": [
                        {
                            "key": "pay",
                            "description": "call the provider",
                            "resetAttempts": False,
                            "action": "doCharge",
                            "final": True,
                            "controller": "payments",
                            "controllerCallback": "afterPay",
                            "resumeControllerCallback": "onResume",
                            "optional": False,
                            "repeatOnRetry": True,
                            "nextStepRules": [
                                {"if": "onError", "description": "retry", "nextStep": "pay"}
                            ],
                        }
                    ],
                }
            ],
            "actions": [
                {
                    "headers": {},
                    "params": {},
                    "data": {"amount": "{{amountCents}}"},
                    "attributes": {},
                    "key": "doCharge",
                    "service": "payments",
                    "method": "charge",
                }
            ],
            "encryptedSettings": {"iv": "aXY=", "hash": "aGFzaA==", "encryptedText": "ZW5j"},
        },
    }


def platform_instance(secret: str) -> dict[str, Any]:
    return {
        "createdAt": "2026-01-05T10:00:00.000Z",
        "updatedAt": "2026-01-05T10:00:00.000Z",
        "sid": INSTANCE_SID,
        "description": "emulated loan",
        "strategyId": STRATEGY_SID,
        "status": "ACTIVE",
        "cycle": 2,
        "startDate": "2026-01-05T10:00:00.000Z",
        "endDate": "2027-01-05T10:00:00.000Z",
        "executionDate": "2026-03-01T08:00:00.000Z",
        "executionDay": 1,
        "attributes": {"loanId": "L-77", "dueDate": "2026-03-01T08:00:00.000Z"},
        "nextEvent": {"sid": EVENT_SIDS[0], "date": "2026-03-01T08:00:00.000Z"},
        "futureField": 1,
        "strategy": platform_strategy(secret),
    }


def platform_events(secret: str) -> list[dict[str, Any]]:
    """The reference's full get-tasks shape: two pending events, unknown fields everywhere."""
    task_status = {
        "lastStep": "pay",
        "futureField": 1,
        "taskResults": [
            {
                "step": "pay",
                "success": False,
                "fromCache": False,
                "message": "card declined",
                "stack": "Error: card declined",
                "httpData": {"request": {"url": "/charges"}, "response": {"status": 402}},
                "data": {"code": "declined"},
                "afterResumeData": None,
                "overrides": {},
                "correlationId": "corr-1",
                "futureField": 1,
            }
        ],
    }
    main = {
        "createdAt": "2026-02-01T08:00:00.000Z",
        "updatedAt": "2026-02-02T08:00:00.000Z",
        "sid": EVENT_SIDS[0],
        "instanceSid": INSTANCE_SID,
        "strategySid": STRATEGY_SID,
        "status": "PENDING",
        "main": True,
        "afterCancellation": False,
        "task": "charge",
        "date": "2026-03-01T08:00:00.000Z",
        "data": {"note": "second try"},
        "scheduledAt": "2026-02-01T08:00:00.000Z",
        "scheduleDelta": 0,
        "executedAt": "2026-02-01T08:00:01.000Z",
        "executionDelta": 1000,
        "createdCycle": 2,
        "finishedAt": "2026-02-01T08:00:02.000Z",
        "finishDelta": 2000,
        "executionTime": 812.5,
        "attempt": 1,
        "jobId": "job-1",
        "correlationId": "corr-1",
        "taskStatus": task_status,
        "cachedTaskStatus": task_status,
        "errorMessage": "card declined",
        "serverLockOwner": "server-a",
        "lockOwner": "runner-b",
        "execStrategyVersion": 3,
        "resumeStrategyVersion": 3,
        "futureField": 1,
        "instance": platform_instance(secret),
        "strategy": platform_strategy(secret),
    }
    reminder = {
        "sid": EVENT_SIDS[1],
        "instanceSid": INSTANCE_SID,
        "strategySid": STRATEGY_SID,
        "status": "QUEUED",
        "main": False,
        "task": "remind",
        "date": "2026-02-26T08:00:00Z",
        "createdCycle": 2,
        "futureField": {"nested": [1, 2]},
        "instance": platform_instance(secret),
        "strategy": platform_strategy(secret),
    }
    return [reminder, main]


def platform_emulator(secret: str, events: list[dict[str, Any]] | None = None) -> Responder:
    """GET /execution-instance/:instanceSid/get-tasks as the platform answers it."""
    document = platform_events(secret) if events is None else events

    def respond(request: Seen) -> Reply:
        parts = request.path.split("?")[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "execution-instance" or parts[2] != "get-tasks":
            return Reply(404, {"message": "Cannot GET " + request.path})
        if parts[1] != INSTANCE_SID:
            return Reply(404, {"statusCode": 404, "message": "Instance not found"})
        if request.headers.get("strategy-secret") != secret:
            return Reply(401, {"statusCode": 401, "message": "Unauthorized"})
        return Reply(200, document)

    return respond
