"""`strategy ARGS` in this process through the installed command's real `main()`.

The exit code, stdout and stderr are exactly what a user sees (main's error boundary included:
a user mistake is one `error:` line and its code, a crash is exit 3), at a fraction of a
subprocess's cost (~0.3 s a call). Each call starts like a new process: nothing a previous
command read from the file system is remembered.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    # The names the tests' older helpers used (a CompletedProcess, the run and sim kits).
    @property
    def returncode(self) -> int:
        return self.code

    @property
    def out(self) -> str:
        return self.stdout

    @property
    def err(self) -> str:
        return self.stderr

    @property
    def text(self) -> str:
        return self.stdout + self.stderr

    @property
    def error(self) -> str | None:
        """The message of the `error:` line on stderr (main prints one at most)."""
        return self._line("error: ")

    @property
    def hint(self) -> str | None:
        return self._line("hint: ")

    def _line(self, head: str) -> str | None:
        found = [
            s.strip()[len(head) :] for s in self.stderr.splitlines() if s.strip().startswith(head)
        ]
        assert len(found) <= 1, self.stderr
        return found[0] if found else None

    def json(self, code: int | None = 0) -> Any:
        """stdout as JSON, after checking the exit code (None: any code)."""
        assert code is None or self.code == code, f"exit {self.code}: {self.stderr}"
        return json.loads(self.stdout)


def run_main(
    *args: str | Path,
    input: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> Result:
    """Run `strategy ARGS`; `env` adds variables (None removes one) and `cwd` is the working
    folder, for this call only."""
    from strategy_cli.cli import app

    forget_process_state()
    raw = input.encode() if isinstance(input, str) else input or b""
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    out, err = _capture("strict"), _capture("backslashreplace")  # as Python's own streams
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(sys, "argv", ["strategy", *map(str, args)]))
        stack.enter_context(mock.patch.object(sys, "stdin", stdin))
        stack.enter_context(mock.patch.object(sys, "stdout", out))
        stack.enter_context(mock.patch.object(sys, "stderr", err))
        stack.enter_context(environment(env or {}))
        if cwd is not None:
            stack.enter_context(chdir(cwd))
        stack.enter_context(mock.patch.dict(app._state, debug=False))  # no --debug before
        stack.enter_context(_signal_handlers())  # a command's handlers end with its process
        code = _exit_code(app.main)
    forget_process_state()  # let go of the captured streams
    return Result(code, _text(out), _text(err))


def forget_process_state() -> None:
    """Drop what the CLI's adapters memoise for a process's lifetime (configuration found upward,
    consoles bound to a stream): one test process runs many commands, each must start fresh.
    The core's caches are pure functions of their arguments and stay."""
    for name, module in list(sys.modules.items()):
        if not name.startswith(("strategy_cli.adapters.", "strategy_cli.cli.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


@contextmanager
def _signal_handlers() -> Iterator[None]:
    names = ("SIGINT", "SIGTERM")
    saved = {name: signal.getsignal(getattr(signal, name)) for name in names}
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():
            for name, handler in saved.items():
                if handler is not None:  # None: set outside Python, cannot be put back
                    signal.signal(getattr(signal, name), handler)


def _capture(errors: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined, no-any-return]


@contextmanager
def environment(env: Mapping[str, str | None]) -> Iterator[None]:
    """Variables set (None: removed) for a block; the environment is restored afterwards."""
    with mock.patch.dict(os.environ):  # restores the whole environment afterwards
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield


def _exit_code(main: Any) -> int:
    """main() always ends in SystemExit; its code as the shell would see it."""
    try:
        main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)  # sys.exit("message"): Python prints it, exit 1
        return 1
    return 0
