"""Ctrl-C and SIGTERM: how a command stops when asked to.

Both signals stop a command the same way: a KeyboardInterrupt that rolls the open transaction
back and ends in exit 130 ("interrupted"). A command whose work is already committed should not
then claim it was lost: past `hold()`, a signal is only noted, the command finishes and says so.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def sigterm_as_ctrl_c() -> None:
    """SIGTERM (a service manager, `kill`) stops any command as Ctrl-C does, instead of killing
    it mid-write. Only the main thread may set handlers (a test may run `main` elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


class Interrupts:
    """The signals received while installed: they interrupt until `hold()`, then wait."""

    def __init__(self) -> None:
        self.holding = False
        self.received: int | None = None

    def hold(self) -> None:
        """From now on a signal does not interrupt: the work it would undo is being committed."""
        self.holding = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.holding:
            raise KeyboardInterrupt
        self.received = signum


@contextmanager
def deferrable() -> Iterator[Interrupts]:
    """Ctrl-C and SIGTERM interrupt the block, until it calls `hold()`."""
    interrupts = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield interrupts
        return
    previous = {sig: signal.signal(sig, interrupts._handle) for sig in SIGNALS}
    try:
        yield interrupts
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
