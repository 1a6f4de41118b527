"""`strategy serve`: the platform's get-tasks endpoint, answered from the local store.

Needs the optional extra: pip install 'strategy-cli[server]' (starlette + uvicorn).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from ..core.literal import literal
from ..core.requests import RequestError
from ..errors import StrategyError, UsageError
from .environ import env_secret
from .operations import tasks_document
from .store import Store

log = logging.getLogger("strategy.serve")


def secret_matches(stored: str | None, given: str | None) -> bool:
    """Constant-time comparison; a strategy without a secret refuses everyone."""
    if not stored or given is None:
        return False
    try:
        expected = env_secret(stored)
    except RequestError:  # the variable is unset: no request can match
        return False
    if not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def make_app(store: Store) -> Any:
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError:
        raise StrategyError(
            "strategy serve needs the server extra", hint="pip install 'strategy-cli[server]'"
        ) from None

    async def get_tasks(request: Request) -> JSONResponse:
        try:
            return answer(request.path_params["instanceSid"], request.headers)
        except StrategyError as exc:  # a damaged record, a busy store: one log line, no traceback
            log.warning("error: %s", exc.message)
            return JSONResponse({"message": "the store cannot answer"}, status_code=500)

    def answer(sid: str, headers: Any) -> JSONResponse:
        found = store.get_instance(sid)
        if found is None:
            return JSONResponse({"message": "instance not found"}, status_code=404)
        strategy = store.get_strategy(found[0]["strategyId"]) or {}
        if not secret_matches(strategy.get("secret"), headers.get("Strategy-Secret")):
            return JSONResponse({"message": "invalid Strategy-Secret"}, status_code=401)
        return JSONResponse(tasks_document(store, sid))

    app = Starlette(routes=[Route("/execution-instance/{instanceSid}/get-tasks", get_tasks)])
    return _AccessLog(app)


class _AccessLog:
    """One log line per request, whatever the route or outcome: client, method, path, status.

    Never headers or the query string, so a Strategy-Secret cannot end up in the log. The path
    arrives percent-decoded: shown literally, a "%0A" in it cannot start a forged log line.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before answering

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            client = scope.get("client")
            log.info(
                "%s %s %s -> %d",
                literal(str(client[0])) if client else "-",
                literal(scope["method"]),
                literal(scope["path"]),
                status,
            )


def serve(store: Store, host: str, port: int) -> None:
    app = make_app(store)
    try:
        import uvicorn
    except ImportError:
        raise StrategyError(
            "strategy serve needs the server extra", hint="pip install 'strategy-cli[server]'"
        ) from None
    check_port(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # Uvicorn's own access log prints request lines too; ours is the one without headers.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def check_port(host: str, port: int) -> None:
    """A taken port or a bad host is the user's to fix: say so in one line (uvicorn would log
    and exit 3, the code of an internal error)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise StrategyError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="choose another --port"
        ) from None
    except UnicodeError as exc:  # a host name IDNA cannot encode (too long, invalid UTF-8)
        raise UsageError(f"--host {host}: not a host name or address ({exc})") from None
