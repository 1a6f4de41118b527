"""The `strategy` command: the typer app and the one place that turns errors into exit codes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__
from ..errors import ExitCode, StrategyError

app = typer.Typer(
    name="strategy",
    help="Author, lint, simulate and operate execution strategies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"strategy {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Author, lint, simulate and operate execution strategies."""
    _state["debug"] = debug


# The module behind each top-level command: a run imports and builds only the one it needs
# (tens of milliseconds on every invocation); help and unknown words load them all.
COMMANDS = {
    "validate": "validate",
    "simulate": "simulate",
    "apply": "strategies",
    "list": "strategies",
    "show": "strategies",
    "instance": "instance",
    "event": "event",
    "run": "run",
    "serve": "serve",
    "schema": "authoring",
    "init": "authoring",
    "rules": "authoring",
    "doctor": "doctor",
}
_registered: set[str] = set()


def _register(only: str | None = None) -> None:
    import importlib

    names = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in names:
        if name not in _registered:
            importlib.import_module(f"{__package__}.{name}").register(app)
            _registered.add(name)


def _command_word(args: list[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def main() -> None:
    from .interrupts import sigterm_as_ctrl_c

    sigterm_as_ctrl_c()
    _register(_command_word(sys.argv[1:]))
    try:
        rv = app(standalone_mode=False)
    except StrategyError as exc:
        _fail(exc.message, exc.hint, exc.code, exc.details)
    except KeyboardInterrupt:
        _fail("interrupted", None, ExitCode.INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", None, ExitCode.INTERRUPTED)
    except typer.TyperException as exc:
        _usage_error(exc)
    except Exception as exc:  # the one boundary that turns crashes into a message
        if _state["debug"]:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc}", "rerun with --debug and report it", 3)
    if rv == ExitCode.INTERRUPTED:
        # typer answers Ctrl-C inside a command by returning 130 without a word; no command
        # returns 130 itself, so say what happened.
        _fail("interrupted", None, ExitCode.INTERRUPTED)
    sys.exit(rv if isinstance(rv, int) else 0)


def _usage_error(exc: Exception) -> None:
    """Bad flags or arguments: typer's own message (with usage), exit 2."""
    code = int(getattr(exc, "exit_code", ExitCode.USAGE))
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:
        _fail(str(exc), None, code)
    sys.exit(code if code else ExitCode.OK)


def _fail(message: str, hint: str | None, code: int, details: tuple[str, ...] = ()) -> None:
    from .console import print_error

    print_error(message, hint, details)
    sys.exit(int(code))
