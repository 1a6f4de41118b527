"""Simulating a portfolio: one instance per line of a JSON-lines file, streamed into the store.

Instances are independent of each other, so with several CPUs worker processes simulate chunks
of lines and build their store rows (the engine and the JSON encoding are most of the work),
while this process writes the rows in file order, inside the caller's one transaction. The store
ends up as a sequential run leaves it, and the first bad line still fails the whole run.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..core.attributes import attribute_problems
from ..core.jsontext import JsonLimitError, loads_limited
from ..core.models import Settings
from ..core.scenario import Scenario
from ..core.simulate import Simulation
from ..core.timecalc import TimeError, get_zone, parse_wall_instant
from ..errors import StrategyError, UsageError
from .store import event_rows, instance_row

if TYPE_CHECKING:
    from .store import Store

CHUNK = 50  # instances per unit of work: ~2,000 events, a few MB of rows in flight
# Instances x cycles below which starting worker processes (~0.3 s) costs more than it saves.
PARALLEL_MIN_CYCLES = 10_000
MAX_WORKERS = 4  # beyond this, this process's inserts are the bottleneck

Line = tuple[int, str]  # (line number, text)


@dataclass
class PortfolioResult:
    instances: int = 0
    events: int = 0
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    forecast: bool = False


@dataclass(frozen=True)
class _Job:
    """Everything a chunk is simulated with; sent once to each worker process."""

    record: dict[str, Any]
    settings: Settings
    scenario: Scenario
    cycles: int
    forecast: bool
    path: Path  # the instances file, named in messages
    store_path: str  # named in messages too
    strategy_name: str | None


@dataclass
class _Chunk:
    """A chunk's simulated instances as ready-to-insert rows."""

    instances: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    calls: Counter[tuple[str, str, str]]


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def run_portfolio(
    store: Store,
    record: dict[str, Any],
    settings: Settings,
    path: Path,
    cycles: int,
    scenario: Scenario | None,
    forecast: bool,
    on_progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    lines: int | None = None,
) -> PortfolioResult:
    """Simulate every line of `path` into `store`, in one transaction.

    `workers`: how many processes simulate (default: one per CPU for a large file, none for a
    small one); 0 simulates in this process. `lines`: the file's count of instance lines, when
    the caller has it already (`count_lines`, for a progress bar). Worker processes are spawned: a program that calls
    this must guard its main module (`if __name__ == "__main__":`), as the CLI's entry points do.
    """
    job = _Job(
        record,
        settings,
        scenario or Scenario(),
        cycles,
        forecast,
        path,
        store.path,
        store.strategy_name(record["sid"]),
    )
    if workers is None:
        workers = _default_workers(count_lines(path) if lines is None else lines, cycles)
    result = PortfolioResult(forecast=forecast)
    # All or nothing: a bad line (or Ctrl-C) leaves the store as it was.
    with (
        _open(path) as handle,
        store.bulk_transaction(),
        _simulated(job, _chunks(_numbered(path, handle)), workers) as chunks,
    ):
        for chunk in chunks:
            store.insert_rows(chunk.instances, chunk.events)
            result.instances += len(chunk.instances)
            result.events += len(chunk.events)
            result.calls.update(chunk.calls)
            if on_progress:
                on_progress(len(chunk.instances))
    return result


# --- reading ------------------------------------------------------------------------------------


def _open(path: Path) -> BinaryIO:
    # Bytes, decoded line by line: a line that is not UTF-8 is then named by its number.
    try:
        return path.open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def _numbered(path: Path, handle: BinaryIO) -> Iterator[Line]:
    for n, raw in enumerate(handle, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrategyError(
                f"{path}:{n}:{exc.start + 1}: not UTF-8 text (byte {raw[exc.start]:#04x})"
            ) from None
        if text.strip():
            yield n, text


def _chunks(lines: Iterator[Line]) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    try:
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    except Exception:
        if chunk:  # the lines before an unreadable one come first: one may fail sooner
            yield chunk
        raise
    if chunk:
        yield chunk


def _parse(path: Path, n: int, text: str) -> dict[str, Any]:
    try:
        item = loads_limited(text)
    except json.JSONDecodeError as exc:
        raise StrategyError(f"{path}:{n}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except JsonLimitError as exc:
        raise StrategyError(f"{path}:{n}: JSON this tool cannot use: {exc}") from None
    if not isinstance(item, dict):
        raise StrategyError(f"{path}:{n}:1: each line must be an object {{attributes, start}}")
    return item


def _item(
    path: Path, n: int, item: dict[str, Any], settings: Settings, zone: Any
) -> tuple[dict[str, Any], Any]:
    attrs = item.get("attributes", {})
    problems = attribute_problems(settings, attrs)
    if problems:
        raise StrategyError(
            f"{path}:{n}: attributes do not match instanceValidation: {problems[0]}"
        )
    raw = item.get("start")
    if not isinstance(raw, str):
        raise StrategyError(f"{path}:{n}: `start` must be an ISO-8601 string")
    try:
        return attrs, parse_wall_instant(raw, zone)
    except (TimeError, OverflowError) as exc:  # Overflow: an instant at the calendar's end
        raise StrategyError(f"{path}:{n}: start: {exc}") from None


# --- simulating ---------------------------------------------------------------------------------


def _simulate_chunk(job: _Job, lines: list[Line]) -> _Chunk:
    """Simulate a chunk's lines in order; the first bad one raises (a StrategyError)."""
    settings = job.settings
    zone = get_zone(settings.config.timezone if settings.config else None)
    chunk = _Chunk([], [], Counter())
    with _collector_paused():
        for n, text in lines:
            attrs, start = _item(job.path, n, _parse(job.path, n, text), settings, zone)
            sim = Simulation(job.record, settings, job.scenario, job.cycles)
            sim.executor.describe_requests = False
            if job.forecast:
                sim.executor.calls = chunk.calls
            try:
                box = sim.run(attrs, *start)
            except StrategyError as exc:  # e.g. a schedule that leaves the calendar: which line
                raise StrategyError(f"{job.path}:{n}: {exc.message}", hint=exc.hint) from None
            chunk.instances.append(
                instance_row(box.instance, box.state, 1, job.strategy_name, job.store_path)
            )
            chunk.events.extend(event_rows(box.events.values(), 1, job.store_path))
    return chunk


@contextmanager
def _simulated(job: _Job, chunks: Iterator[list[Line]], workers: int) -> Iterator[Iterator[_Chunk]]:
    """The chunks' results in file order: simulated here, or by `workers` processes."""
    if workers <= 0:
        yield (_simulate_chunk(job, chunk) for chunk in chunks)
        return
    pool = _start_pool(job, workers)
    try:
        yield _in_order(pool, chunks, window=2 * workers)
    finally:
        # On an error or Ctrl-C: drop the queued chunks, wait for the running ones to end.
        pool.shutdown(wait=True, cancel_futures=True)


def _in_order(
    pool: ProcessPoolExecutor, chunks: Iterator[list[Line]], window: int
) -> Iterator[_Chunk]:
    """Keep `window` chunks in flight (bounded memory) and hand results back in file order, so
    the first bad line reported is the first in the file, as in a sequential run."""
    pending: deque[Future[_Chunk]] = deque()
    while True:
        try:
            chunk = next(chunks, None)
        except Exception:
            # Reading failed (e.g. not UTF-8): a line before it may hold an earlier error.
            while pending:
                yield pending.popleft().result()
            raise
        if chunk is None:
            break
        pending.append(pool.submit(_worker_chunk, chunk))
        if len(pending) > window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _default_workers(lines: int, cycles: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cpus or cpus < 2 or lines * cycles < PARALLEL_MIN_CYCLES:
        return 0
    return min(cpus, MAX_WORKERS)


def _start_pool(job: _Job, workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: this process holds an SQLite connection and threads (the progress bar).
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(job,),
    )
    # Start every worker now, ignoring Ctrl-C while they are born: an ignored signal stays
    # ignored in the child, so the terminal's Ctrl-C (sent to the whole process group) never
    # prints a worker's traceback, even while it is still importing. This process answers it.
    # (Each submit while no worker is idle starts one process, synchronously. Only the main
    # thread may set a signal handler; elsewhere the workers' initializer alone ignores it.)
    # SIGTERM likewise: this process stops the workers (drops their queue, waits for their
    # chunk), and a worker that died of it first would break the pool before that.
    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOPS} if main else {}
    try:
        for _ in range(workers):
            pool.submit(_ready)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return pool


_STOPS = (signal.SIGINT, signal.SIGTERM)


_JOB: _Job | None = None  # a worker process's job, set once by _start_worker


def _start_worker(job: _Job) -> None:
    global _JOB
    for sig in _STOPS:  # in case the platform did not inherit it
        signal.signal(sig, signal.SIG_IGN)
    _die_with_parent()
    _JOB = job
    gc.freeze()  # modules and the job live as long as the worker: never scan them again


def _die_with_parent() -> None:
    """A worker ignores Ctrl-C and SIGTERM, so that only the command stops it; were the
    command killed outright (SIGKILL), the worker would outlive it. Linux ends it then."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: the pool's own shutdown still applies
        return
    if os.getppid() == 1:  # the command died before the line above: no one to wait for
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _ready() -> None:
    """A no-op task: submitting one per worker starts the processes."""


def _worker_chunk(lines: list[Line]) -> _Chunk:
    assert _JOB is not None, "the pool's initializer sets the job"
    return _simulate_chunk(_JOB, lines)


# --- garbage collection -------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Simulated records are plain acyclic dicts, freed by reference counting, yet the cyclic
    collector re-scans every live one many times (~10% of a run). It pauses for one chunk
    (bounded memory) and collects whatever cycles the chunk left once it resumes."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
