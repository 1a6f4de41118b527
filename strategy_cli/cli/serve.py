"""`strategy serve`: share one local store's get-tasks endpoint with a team."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DbOption


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback unless told otherwise).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")
    ] = 8080,
    db: DbOption = None,
) -> int:
    """Serve the platform's get-tasks API from the store.

    GET /execution-instance/{instanceSid}/get-tasks, from the local store. Answers 401 unless the Strategy-Secret header equals the instance's strategy secret, 404 for
    an unknown instance. Needs: pip install 'strategy-cli[server]'.

    Example: strategy serve --port 8080 --db team.db
    """
    from ..adapters.server import check_port
    from ..adapters.server import serve as run_server
    from .common import open_store
    from .console import err, shown

    check_port(host, port)
    with open_store(db) as store:
        err().print(
            shown(f"serving get-tasks from {store.path} on http://{host}:{port} (Ctrl-C stops)"),
            soft_wrap=True,
        )
        run_server(store, host, port)
    return 0


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
