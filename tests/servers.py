"""Real HTTP servers for the `strategy run` tests and the benchmark, plus a small run kit.

`RecordingServer`: the standard library's ThreadingHTTPServer in a thread on 127.0.0.1 and a free
port. Routes answer with a `Reply` (or a list of them, used in order, the last one repeating, or a
function of the request); every request received is appended to `server.log` *when it arrives*
(before any delay), with its arrival time, so tests can count idempotency keys and measure gaps.

`serve_fast(port)`: a minimal asyncio HTTP/1.1 keep-alive server that answers every request with
200 `{"ok": true}`; the benchmark runs it in its own process (`python tests/servers.py fast PORT`).

`RunKit`: a store in a temporary folder and the `strategy` CLI run in-process (so that tests may
monkeypatch `strategy_cli.adapters.runner.utcnow`) or as a subprocess (for kill tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from clikit import Result, environment, run_main

# --- the recording server -----------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    raw: bool = False  # body is sent as given (str/bytes), not JSON-encoded
    chunked: bool = False  # sent in 1 KB chunks without a Content-Length


Responder = Reply | list[Reply] | Callable[[Seen], Reply]


class RecordingServer:
    """Routes are "METHOD /path" or "/path" (any method); other paths get `default`
    (200 `{"ok": true}` unless given; None answers 404)."""

    def __init__(
        self, routes: dict[str, Responder] | None = None, default: Reply | None = None
    ) -> None:
        self.routes: dict[str, Responder] = dict(routes or {})
        self.default = default if default is not None else Reply()
        self.log: list[Seen] = []
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> RecordingServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False
            request_queue_size = 256

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that went away (timeouts, killed runners) is expected

        self._httpd = Httpd(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # routes and log
    def route(self, key: str, responder: Responder) -> None:
        with self._lock:
            self.routes[key] = responder
            self._used.pop(key, None)

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.log if path is None or s.path == path]

    def _pick(self, seen: Seen) -> Reply:
        with self._lock:
            key = f"{seen.method} {seen.path}"
            if key not in self.routes:
                key = seen.path
            responder = self.routes.get(key, self.default)
            if isinstance(responder, list):
                i = self._used.get(key, 0)
                self._used[key] = i + 1
                return responder[min(i, len(responder) - 1)]
        if isinstance(responder, Reply):
            return responder
        return responder(seen)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if len(body) < length:
            # The client died mid-request (a killed runner): no service would have seen it.
            h.close_connection = True
            return
        parts = urlsplit(h.path)
        seen = Seen(
            method=h.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self.log.append(seen)
        reply = self._pick(seen)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw:
            payload = reply.body if isinstance(reply.body, bytes) else str(reply.body).encode()
            ctype = "text/plain"
        else:
            payload = json.dumps(reply.body).encode()
            ctype = "application/json"
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", reply.headers.get("Content-Type", ctype))
            for name, value in reply.headers.items():
                if name.lower() != "content-type":
                    h.send_header(name, value)
            if reply.chunked:
                h.send_header("Transfer-Encoding", "chunked")
                h.end_headers()
                for i in range(0, len(payload), 1024):
                    piece = payload[i : i + 1024]
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                h.wfile.write(b"0\r\n\r\n")
                return
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a timeout) or died


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the fast server (benchmark) ----------------------------------------------------------------

_FAST_BODY = b'{"ok":true}'
_FAST_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(_FAST_BODY)).encode()
    + b"\r\n\r\n"
    + _FAST_BODY
)


class _FastProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: enough for httpx, nothing more."""

    def __init__(self, counter: list[int]) -> None:
        self.buffer = b""
        self.counter = counter
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            self.counter[0] += 1
            assert self.transport is not None
            self.transport.write(_FAST_REPLY)


def serve_fast(port: int) -> None:
    async def main() -> None:
        counter = [0]
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _FastProtocol(counter), "127.0.0.1", port, backlog=1024
        )
        print(f"listening on {port}", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


# --- strategies and the CLI ---------------------------------------------------------------------


def strategy_doc(
    name: str,
    base_url: str,
    *,
    steps: list[dict[str, Any]] | None = None,
    methods: list[dict[str, Any]] | None = None,
    actions: list[dict[str, Any]] | None = None,
    task: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    service: dict[str, Any] | None = None,
    extra_services: list[dict[str, Any]] | None = None,
    secret: str | None = None,
) -> dict[str, Any]:
    """A strategy whose cycle 1 runs task `work` at the start date, and no cycle after it.

    The default task has one step `call` that POSTs `{"id": attributes.id}` to `/hook`.
    """
    steps = steps or [{"key": "call", "action": "hook", "final": True}]
    doc: dict[str, Any] = {
        "name": name,
        "version": 1,
        "settings": {
            "config": {"timezone": "UTC", **(config or {})},
            "schedule": {
                "calendars": [
                    {
                        "key": "once",
                        "runOnCycle": 1,
                        "scheduleAfter": {"unit": "minutes", "amount": 0},
                        "task": "work",
                    }
                ]
            },
            "services": [
                {
                    "key": "api",
                    "baseUrls": [{"environment": "local", "url": base_url}],
                    "methods": methods or [{"key": "hook", "url": "/hook", "method": "post"}],
                    **(service or {}),
                },
                *(extra_services or []),
            ],
            "tasks": [
                {"key": "work", "steps": steps, "initialStep": steps[0]["key"], **(task or {})}
            ],
            "actions": actions
            or [
                {
                    "key": "hook",
                    "service": "api",
                    "method": "hook",
                    "data": {"id": "{{ attributes.id }}"},
                }
            ],
        },
    }
    if secret is not None:
        doc["secret"] = secret
    return doc


ROOT = Path(__file__).resolve().parent.parent
PAST = "2024-01-01T00:00:00Z"


class RunKit:
    """A store file in `folder` and the `strategy` CLI against it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "store.db"
        self._files = 0

    def cli(self, *args: str) -> Result:
        """`strategy ARGS` in this process (monkeypatches apply), through the real main()."""
        return run_main(*args)

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`strategy ARGS` as a child process (its own pid, to kill)."""
        return subprocess.Popen(
            [sys.executable, "-m", "strategy_cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.folder,
            env={**os.environ, **(env or {})},
        )

    def write(self, doc: dict[str, Any]) -> Path:
        self._files += 1
        path = self.folder / f"strategy-{self._files}.json"
        path.write_text(json.dumps(doc, indent=1))
        return path

    def create(
        self, doc: dict[str, Any], *attributes: dict[str, Any], start: str = PAST
    ) -> list[str]:
        """One instance per attributes mapping; returns their sids."""
        path = self.write(doc)
        sids = []
        for attrs in attributes or ({"id": "x"},):
            r = self.cli(
                "instance", "create", str(path), "--attributes", json.dumps(attrs),
                "--start", start, "--db", str(self.db), "--format", "json",
            )  # fmt: skip
            assert r.code == 0, r.text
            sids.append(_sid_of(r.out))
        return sids

    def run(self, *args: str) -> Result:
        return self.cli("run", "--db", str(self.db), *args)

    # raw reads (the store's own tables, no code of ours)
    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()

    def events(self, instance: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT record FROM events WHERE simulated = 0"
        rows = (
            self.rows(sql + " AND instance_sid = ? ORDER BY date_utc, sid", instance)
            if instance
            else self.rows(sql + " ORDER BY date_utc, sid")
        )
        return [json.loads(r[0]) for r in rows]

    def event(self, instance: str, task: str = "work") -> dict[str, Any]:
        found = [e for e in self.events(instance) if e["task"] == task]
        assert len(found) == 1, found
        return found[0]

    def instance(self, sid: str) -> dict[str, Any]:
        (row,) = self.rows("SELECT record FROM instances WHERE sid = ?", sid)
        return dict(json.loads(row[0]))

    def dump(self) -> str:
        """Every value of every table, as text (for secret searches and change checks)."""
        conn = sqlite3.connect(self.db)
        try:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            parts = []
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                    parts.append(f"{table}: {row!r}")
            return "\n".join(parts)
        finally:
            conn.close()


class Clock:
    """The runner's clock (`strategy_cli.adapters.runner.utcnow`), moved by the test."""

    def __init__(self, monkeypatch: Any) -> None:
        from datetime import UTC, datetime

        from strategy_cli.adapters import runner

        self.now = datetime.now(UTC).replace(microsecond=0)
        monkeypatch.setattr(runner, "utcnow", lambda: self.now)

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


def _sid_of(output: str) -> str:
    try:
        data = json.loads(output)
    except ValueError:
        return output.strip().split()[0]
    if isinstance(data, dict):
        return str(data.get("sid") or data["instance"]["sid"])
    return str(data[0]["sid"])


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def secret_shapes(secret: str) -> set[str]:
    """The shapes a secret takes in messages, URLs and JSON texts (4+ characters): what a
    redaction test looks for, written apart from the redactor so that it can catch a shape the
    redactor forgets."""
    shapes = {
        secret,
        secret.strip(),
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret.encode("utf-8", "backslashreplace"))[2:-1],
    }
    return {s for s in shapes if len(s) >= 4}


def env_vars(**values: str) -> contextlib.AbstractContextManager[None]:
    return environment(values)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fast":
        serve_fast(int(sys.argv[2]))
    else:
        sys.exit("usage: python tests/servers.py fast PORT")
