"""The one exception type for user-facing failures, and the documented exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # findings, or an operation that did not succeed
    USAGE = 2  # bad flags, missing paths, malformed option values
    INTERNAL = 3  # a bug: the message asks for a report (rerun with --debug)
    INTERRUPTED = 130


class StrategyError(Exception):
    """A failure the user can act on: shown as one line, never as a traceback."""

    def __init__(
        self,
        message: str,
        *,
        code: ExitCode = ExitCode.FAILED,
        hint: str | None = None,
        details: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        # Lines printed under the one-line message (every failing path of some attributes):
        # the first line always says what failed.
        self.details = details


class UsageError(StrategyError):
    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message, code=ExitCode.USAGE, hint=hint)


def first_line(exc: BaseException) -> str:
    """An exception's text for a one-line message (its type when it has none)."""
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text.strip() else type(exc).__name__
