"""The `strategy` command: the typer app and the one place that turns errors into exit codes."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import Annotated

import typer

from .. import __version__
from ..errors import ExitCode, StrategyError, first_line

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
    _standard_streams()
    _register(_command_word(sys.argv[1:]))
    try:
        rv = app(standalone_mode=False)
        sys.stdout.flush()  # here, not at exit: a full disk or closed pipe gets its message
    except StrategyError as exc:
        _fail(exc.message, exc.hint, exc.code, exc.details)
    except KeyboardInterrupt:
        _fail("interrupted", None, ExitCode.INTERRUPTED)
    except typer.Exit as exc:
        _settle_output()
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", None, ExitCode.INTERRUPTED)
    except typer.TyperException as exc:
        _usage_error(exc)
    except OSError as exc:
        _os_error(exc)
    except (ValueError, OverflowError, RecursionError) as exc:
        _input_error(exc)
    except Exception as exc:  # the one boundary that turns crashes into a message
        _internal(exc)
    if rv == ExitCode.INTERRUPTED:
        # typer answers Ctrl-C inside a command by returning 130 without a word; no command
        # returns 130 itself, so say what happened.
        _fail("interrupted", None, ExitCode.INTERRUPTED)
    sys.exit(rv if isinstance(rv, int) else 0)


def _internal(exc: BaseException) -> None:
    if _state["debug"]:
        raise exc
    _fail(
        f"internal error: {type(exc).__name__}: {first_line(exc)}",
        "rerun with --debug and report it",
        ExitCode.INTERNAL,
    )


def _os_error(exc: OSError) -> None:
    """Output that cannot be written (a full disk, a closed pipe or stdout), or a path given by
    the user that the system refuses (too long, unreadable) wherever it was first touched."""
    where = exc.filename
    if exc.errno in _FULL:
        if where is None:
            _discard_output()  # what is still buffered would fail again when Python exits
        _fail(f"{where or 'cannot write output'}: disk is full", None, ExitCode.FAILED)
    if where is not None:
        _fail(f"{where}: {exc.strerror or exc}", None, ExitCode.USAGE)
    if _working_folder_gone():  # os.getcwd() fails without naming a path
        _fail("the working folder no longer exists", "cd into a folder and run again", 2)
    if exc.errno not in (errno.EPIPE, errno.EBADF):
        _internal(exc)
    _discard_output()
    if exc.errno == errno.EPIPE:  # the reader stopped reading (`| head`): nothing to say
        sys.exit(ExitCode.FAILED)
    _fail(f"cannot write output: {exc.strerror}", None, ExitCode.FAILED)


def _working_folder_gone() -> bool:
    try:
        os.getcwd()
    except OSError:
        return True
    return False


_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # no space, or over quota


def _input_error(exc: Exception) -> None:
    """Values no user input should reach the core with, caught wherever they escape: a date off
    the calendar, nesting too deep, a number too long, text that is not valid Unicode."""
    from ..core.timecalc import TimeError, TimeRangeError

    text = first_line(exc)
    if isinstance(exc, TimeRangeError) or (isinstance(exc, OverflowError) and "date" in text):
        _fail(
            f"a date falls outside the calendar: {text}",
            "dates must stay between the years 1 and 9999",
            ExitCode.FAILED,
        )
    if isinstance(exc, TimeError):  # a time the user gave that the core cannot place
        _fail(text, None, ExitCode.FAILED)
    if isinstance(exc, OverflowError):
        _fail(f"a value is out of range: {text}", None, ExitCode.FAILED)
    if isinstance(exc, RecursionError):
        _fail("the input is nested too deeply to process", None, ExitCode.FAILED)
    if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc.reason):
        _fail(
            "text that is not valid UTF-8 (from an argument, a file or \\u escapes) cannot be "
            "used here",
            "pass UTF-8 text",
            ExitCode.FAILED,
        )
    if "embedded null" in text:  # a path or name from a file or the environment: never argv
        _fail("a path or name holds a NUL character", None, ExitCode.USAGE)
    if "digits" in text and "integer" in text:  # Python's str-to-int limit
        _fail("a number has too many digits", None, ExitCode.FAILED)
    _internal(exc)


class _ClosedOutput(io.TextIOBase):
    """Stands in for a stdout the process was started without (`>&-`): writing fails."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def _standard_streams() -> None:
    """Streams any command can write to: a closed stdout fails on the first write (with a
    message), a closed stderr is discarded, and text that is not valid Unicode (a path with
    invalid UTF-8 bytes, escaped by the OS as lone surrogates) is shown as `\\udcff`, never a
    UnicodeEncodeError."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            reconfigure(errors="backslashreplace")


def _settle_output() -> None:
    """Flush stdout before exiting with an error: output that cannot be written is dropped
    (the error already says what went wrong), never a second failure at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        _discard_output()


def _discard_output() -> None:
    # Not a real file (a test's buffer, or closed): then nothing is flushed at exit either.
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _usage_error(exc: Exception) -> None:
    """Bad flags or arguments: typer's own message (with usage), exit 2."""
    code = int(getattr(exc, "exit_code", ExitCode.USAGE))
    show = getattr(exc, "show", None)
    if callable(show):
        with contextlib.suppress(OSError):  # stderr cannot be written: the exit code tells
            show()
    else:
        _fail(str(exc), None, code)
    sys.exit(code if code else ExitCode.OK)


def _fail(message: str, hint: str | None, code: int, details: tuple[str, ...] = ()) -> None:
    from .console import print_error

    _settle_output()
    with contextlib.suppress(OSError):  # stderr cannot be written: the exit code tells
        print_error(message, hint, details)
    sys.exit(int(code))
