"""`strategy run`: claim due events, run their attempts through the engine, store the outcome.

Crash safety: claiming is one transaction (the event goes QUEUED -> EXECUTING with a lockOwner
and a lease, the instance gets the same lease). A runner that dies leaves leases that expire; the
next runner re-runs that attempt with the same attempt number, hence the same idempotency key.
Only one event of an instance runs at a time, so an instance is never written by two runners.
Leases last 5 minutes (`STRATEGY_LEASE_SECONDS` overrides it, for tests) and are renewed while the
attempt runs; a runner that finds, when settling, that its event is no longer its own (an
operator cancelled it, or its lease was lost) does not overwrite it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from ..core.attempt import CONFIGURATION_ERROR
from ..core.callbacks import Callbacks
from ..core.domain import EventStatus, InstanceStatus
from ..core.engine import Engine
from ..core.failures import failed_service, failure_reason
from ..core.models import Settings
from ..core.records import iso
from ..core.redaction import Redactor
from ..errors import StrategyError
from .clock import utcnow  # by name: tests patch `runner.utcnow` to move the clock
from .config import MAX_RESPONSE_BYTES
from .environ import resolve_env
from .http import HttpExecutor, LoopBridge, Stats
from .operations import Loaded, box_of, engine_for, load, save
from .preflight import SettingsFor, preflight
from .store import Store
from .strategies import settings_of

LEASE = timedelta(minutes=5)
LEASE_ENV = "STRATEGY_LEASE_SECONDS"


def lease_length() -> timedelta:
    """How long a claim holds: 5 minutes, or `$STRATEGY_LEASE_SECONDS` (tests shorten it)."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        raise StrategyError(f"{LEASE_ENV}={raw!r} is not a number of seconds") from None
    if not 0 < seconds < 10**9:  # not NaN or infinite either: a timedelta needs a real span
        raise StrategyError(f"{LEASE_ENV}={raw!r} must be more than 0 seconds")
    return timedelta(seconds=seconds)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class RunOptions:
    env: str | None = None
    instance: str | None = None
    concurrency: int = 8
    watch: bool = False
    interval: float = 1.0
    timeout: float = 30.0
    max_response_bytes: int = MAX_RESPONSE_BYTES
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )
    lease: timedelta = field(default_factory=lease_length)


@dataclass
class RunSummary:
    outcomes: Counter[str] = field(default_factory=Counter)
    stats: Stats = field(default_factory=Stats)
    problems: list[str] = field(default_factory=list)
    # One entry per stored outcome: event, instance, task, outcome, status, attempt, errorMessage.
    events: list[dict[str, Any]] = field(default_factory=list)
    # Why attempts failed: each failed attempt's reason (core/failures.py), counted.
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def executed(self) -> int:
        return sum(self.outcomes.values())


class Runner:
    def __init__(self, store: Store, callbacks: Callbacks, options: RunOptions) -> None:
        self.store = store
        self.callbacks = callbacks
        self.options = options
        self.redactor = Redactor()
        self.summary = RunSummary()
        self.bridge: LoopBridge | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.executors: dict[str, HttpExecutor] = {}
        self.settings_for = strategy_settings(store)  # each version's settings parsed once
        self.stopping = False  # a first signal: claim nothing more, finish what is in flight
        self.releasing = False  # a second one: give what is in flight back, stop now
        self._claimed: dict[str, dict[str, Any]] = {}  # each event in flight as it was before
        self._wake: asyncio.Event | None = None
        # Events whose attempt hit a configuration error: due still, but not tried again by
        # this runner (it would fail the same way at once, for ever).
        self.blocked: set[str] = set()
        self._next_recovery = 0.0  # monotonic time of the next scan for dead runners' attempts

    # --- claiming ---------------------------------------------------------------------------

    def claim(self, slots: int, busy: set[str]) -> list[tuple[Loaded, str]]:
        """Up to `slots` due events of distinct, unleased instances, marked EXECUTING."""
        now = utcnow()
        claimed: list[tuple[Loaded, str]] = []
        with self.store.transaction():
            for row in self._candidates(now, slots, busy):
                if len(claimed) >= slots:
                    break
                if row["instanceSid"] in busy:
                    continue
                got = self._claim_one(row, now)
                if got is not None:
                    claimed.append(got)
                    busy.add(row["instanceSid"])
        return claimed

    def _candidates(self, now: datetime, slots: int, busy: set[str]) -> list[dict[str, Any]]:
        """Due PENDING events, preceded (now and then) by attempts whose runner died.

        EXECUTING events are mostly alive (this runner's or another's), so they are looked at
        only every few seconds: they must not crowd the PENDING ones out of the query's limit.
        """
        rows: list[dict[str, Any]] = []
        clock = time.monotonic()
        if clock >= self._next_recovery:
            self._next_recovery = clock + min(self.options.lease.total_seconds() / 4, 15.0)
            rows += [
                r
                for r in self.store.due_events(
                    _utc_text(now),
                    statuses=(EventStatus.EXECUTING,),
                    limit=10_000,
                    instance_sid=self.options.instance,
                )
                if not _leased(r.get("_leaseUntil"), now)
            ]
        rows += self.store.due_events(
            _utc_text(now),
            statuses=(EventStatus.PENDING,),
            limit=slots * 2 + len(busy) + len(self.blocked) + 16,
            instance_sid=self.options.instance,
        )
        return rows

    def _claim_one(self, row: dict[str, Any], now: datetime) -> tuple[Loaded, str] | None:
        if row["status"] == EventStatus.EXECUTING and _leased(row.get("_leaseUntil"), now):
            return None
        if row["sid"] in self.blocked:
            return None
        loaded = self.load(row["instanceSid"])
        if loaded is None:
            return None
        box, state = loaded.box, loaded.box.state
        lease = state.get("_lease") or {}
        if lease.get("owner") not in (None, self.options.owner) and _leased(
            lease.get("until"), now
        ):
            return None
        event = box.events.get(row["sid"])
        if event is None:
            return None
        if event["status"] == EventStatus.PENDING:
            if not loaded.engine.is_runnable(box, event):
                return None
            loaded.engine.start_attempt(box, event, now, self.options.owner)
        elif (
            event["status"] == EventStatus.EXECUTING
        ):  # a dead runner's attempt: run it again, same number
            event["lockOwner"] = self.options.owner
            box.touch(event, now)
        else:
            return None
        until = iso(now + self.options.lease)
        event["_leaseUntil"] = until
        state["_lease"] = {"owner": self.options.owner, "until": until}
        save(self.store, loaded)
        self._claimed[row["sid"]] = row  # the stored record, untouched: what release restores
        return loaded, row["sid"]

    def load(self, sid: str) -> Loaded | None:
        """Like operations.load, with each strategy's settings parsed once per run."""
        found = self.store.get_instance(sid)
        if found is None:
            return None
        record, state = found
        parsed = self.settings_for(record["strategyId"])
        if parsed is None:
            return None
        strategy, settings = parsed
        return engine_for(
            box_of(self.store, sid, record, state), strategy, settings, self.callbacks
        )

    def preflight(self) -> None:
        """Before claiming: --env and the variables the due events need (adapters/preflight)."""
        options = self.options
        preflight(self.store, options.env, options.instance, utcnow(), self.settings_for)

    # --- running ----------------------------------------------------------------------------

    def executor_for(self, loaded: Loaded) -> HttpExecutor:
        sid = loaded.strategy["sid"]
        if sid not in self.executors:
            settings = loaded.engine.settings
            redact = settings.config.redact if settings.config and settings.config.redact else []
            self.redactor.names |= {n.lower() for n in redact}
            add_strategy_secret(self.redactor, loaded.strategy)
            assert self.bridge is not None
            self.executors[sid] = HttpExecutor(
                settings, self.options.env, self.bridge.send, self.redactor, self.summary.stats
            )
        return self.executors[sid]

    def execute(self, loaded: Loaded, sid: str) -> str:
        """The attempt itself, in a worker thread: HTTP and callbacks, no store access."""
        box = loaded.box
        event = box.events[sid]
        started = datetime.fromisoformat(event["executedAt"])
        return loaded.engine.finish_attempt(
            box, event, self.executor_for(loaded), started, utcnow(), clock=utcnow
        )

    def settle(self, finished: list[tuple[Loaded, str, str]]) -> None:
        """Store the outcomes of finished attempts, in one transaction."""
        with self.store.transaction():
            for loaded, sid, status in finished:
                self._claimed.pop(sid, None)
                box = loaded.box
                event = box.events[sid]
                event.pop("_leaseUntil", None)
                box.state.pop("_lease", None)
                for key in ("taskStatus", "cachedTaskStatus", "errorMessage", "_history"):
                    if event.get(key) is not None:
                        event[key] = self.redactor.scrub(event[key])
                if box.state.get("notes"):  # a callback's error text, say
                    box.state["notes"] = self.redactor.scrub(box.state["notes"])
                box.dirty.add(sid)
                if self._still_ours(loaded, sid):
                    save(self.store, loaded)
                    self._count(loaded, event, status)

    def _count(self, loaded: Loaded, event: dict[str, Any], status: str) -> None:
        outcome = _outcome_name(event, status)
        self.summary.outcomes[outcome] += 1
        if status == CONFIGURATION_ERROR:
            self.blocked.add(event["sid"])
        if outcome in FAILED_ATTEMPT:
            service = failed_service(loaded.engine.settings, event)
            self.summary.failures[failure_reason(event.get("errorMessage"), service)] += 1
        self.summary.events.append(
            {
                "event": event["sid"],
                "instance": loaded.box.instance["sid"],
                "task": event["task"],
                "outcome": outcome.replace(" ", "-"),
                "status": event["status"],
                "attempt": event.get("attempt"),
                "errorMessage": event.get("errorMessage"),
            }
        )

    def _still_ours(self, loaded: Loaded, sid: str) -> bool:
        """Settle only an attempt nobody took over; keep an operator's pause made meanwhile."""
        stored = self.store.get_event(sid)
        if not self._mine(stored):
            now_status = stored.get("status") if stored else "deleted"
            self.summary.outcomes["superseded"] += 1
            self.summary.problems.append(
                f"event {sid}: changed by someone else while it ran (now {now_status}); "
                "its outcome was not stored"
            )
            return False
        found = self.store.get_instance(loaded.box.instance["sid"])
        paused = found is not None and found[0].get("status") == InstanceStatus.PAUSED
        if paused and loaded.box.instance["status"] == InstanceStatus.ACTIVE:
            loaded.engine.pause(loaded.box, utcnow())  # an operator paused it meanwhile
        return True

    def crashed(self, loaded: Loaded, sid: str, exc: BaseException) -> None:
        """An attempt raised (a bug, or a callback misbehaving where nothing catches it): the
        event fails with the error instead of taking the whole run down."""
        message = self.redactor.scrub(f"internal error: {type(exc).__name__}: {exc}")
        self.summary.problems.append(f"event {sid}: {message}")
        self._claimed.pop(sid, None)
        with self.store.transaction():
            fresh = self.load(loaded.box.instance["sid"])
            if fresh is None or not self._still_ours(fresh, sid):
                return
            event = fresh.box.events[sid]
            event.pop("_leaseUntil", None)
            fresh.box.state.pop("_lease", None)
            try:
                fresh.engine._fail(fresh.box, event, message, utcnow())
            except Exception as again:  # even failing it misbehaves: store the bare failure
                event.update(status=EventStatus.FAILED, errorMessage=f"{message}; then {again}")
                fresh.box.dirty.add(sid)
            save(self.store, fresh)
        self.summary.outcomes["failed"] += 1
        self.summary.failures[failure_reason(message)] += 1

    def renew(self, inflight: list[tuple[Loaded, str]]) -> None:
        """Extend the leases of the attempts in flight (stored copies only)."""
        now = utcnow()
        until = iso(now + self.options.lease)
        with self.store.transaction():
            for loaded, sid in inflight:
                stored = self.store.get_event(sid)
                if not self._mine(stored):
                    continue
                stored["_leaseUntil"] = until
                self.store.put_events([stored], simulated=loaded.simulated)
                found = self.store.get_instance(loaded.box.instance["sid"])
                if found is not None:
                    record, state = found
                    state["_lease"] = {"owner": self.options.owner, "until": until}
                    self.store.put_instance(record, state, simulated=loaded.simulated)

    def _mine(self, stored: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """Whether a stored event is an attempt of this runner's, still running."""
        return (
            stored is not None
            and stored.get("status") == EventStatus.EXECUTING
            and stored.get("lockOwner") == self.options.owner
        )

    def release(self, inflight: list[tuple[Loaded, str]]) -> None:
        """Give the attempts in flight back, in one transaction: each event exactly as it was
        before this runner claimed it (due again, same attempt number, hence the same
        idempotency keys when it runs), its instance without this runner's lease. Calls
        already sent are sent again by the next run, as after a crash."""
        released = self.summary.outcomes["released"]
        with self.store.transaction():
            for loaded, sid in inflight:
                before = self._claimed.pop(sid, None)
                if before is None or not self._mine(self.store.get_event(sid)):
                    continue  # an operator's change stands
                self.store.put_events([before], simulated=loaded.simulated)
                found = self.store.get_instance(loaded.box.instance["sid"])
                if (
                    found is not None
                    and (found[1].get("_lease") or {}).get("owner") == self.options.owner
                ):
                    record, state = found
                    state.pop("_lease", None)
                    self.store.put_instance(record, state, simulated=loaded.simulated)
                self.summary.outcomes["released"] += 1
        if self.summary.outcomes["released"] > released:
            self.summary.problems.append(
                f"released {self.summary.outcomes['released'] - released} attempt(s) in flight: "
                "their events are due again; calls they had sent are sent again by the next "
                "run, with the same idempotency keys"
            )

    def interrupt(self) -> bool:
        """A signal (Ctrl-C, SIGTERM): the first stops claiming and lets the attempts in flight
        finish and be stored; the next releases them and stops at once. True on the first."""
        first = not self.stopping
        self.stopping = True
        self.releasing = not first
        if self._wake is not None:
            self._wake.set()
        return first

    async def run(self, on_progress: Callable[[RunSummary], None] | None = None) -> RunSummary:
        self.preflight()
        self.bridge = LoopBridge(
            self.options.timeout, self.options.concurrency, self.options.max_response_bytes
        )
        # One thread per slot: the default executor has only a few, which would cap concurrency.
        self.pool = ThreadPoolExecutor(
            max_workers=self.options.concurrency, thread_name_prefix="strategy-attempt"
        )
        try:
            with self.redactor.guarding():
                await self._loop(on_progress)
        finally:
            if self.releasing:  # released attempts are abandoned: their threads end quickly
                self.bridge.abandon()
            self.pool.shutdown(wait=not self.releasing, cancel_futures=True)
            self.bridge.close()
        return self.summary

    async def _loop(self, on_progress: Callable[[RunSummary], None] | None) -> None:
        loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        inflight: dict[asyncio.Future[str], tuple[Loaded, str]] = {}
        busy: set[str] = set()
        renew_every = self.options.lease.total_seconds() / 3
        renewed = time.monotonic()
        # Claim in batches: one claim transaction per few finished attempts, not per attempt.
        batch = max(1, self.options.concurrency // 5)
        while True:
            free = self.options.concurrency - len(inflight)
            if (free >= batch or not inflight) and not self.stopping:
                for loaded, sid in self.claim(free, busy):
                    future = loop.run_in_executor(self.pool, self.execute, loaded, sid)
                    inflight[future] = (loaded, sid)
            if not inflight:
                renewed = time.monotonic()
                if self.options.watch and not self.stopping:
                    await self._nap(self.options.interval)
                    if not self.stopping:
                        self.preflight()  # a tick claims nothing that --env or a variable fails
                    continue
                return
            done = await self._wait(inflight, renew_every)
            if time.monotonic() - renewed >= renew_every and not self.releasing:
                renewed = time.monotonic()
                self.renew([v for f, v in inflight.items() if f not in done])
            finished: list[tuple[Loaded, str, str]] = []
            for future in done:
                loaded, sid = inflight.pop(future)
                busy.discard(loaded.box.instance["sid"])
                error = future.exception()
                if error is not None:
                    self.crashed(loaded, sid, error)
                else:
                    finished.append((loaded, sid, future.result()))
            if finished:
                self.settle(finished)
            if self.releasing:
                self.release(list(inflight.values()))
                return
            if on_progress:
                on_progress(self.summary)

    async def _nap(self, seconds: float) -> None:
        """Sleep between polls; a signal ends the nap."""
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _wait(
        self, inflight: dict[asyncio.Future[str], tuple[Loaded, str]], timeout: float
    ) -> set[asyncio.Future[Any]]:
        """The attempts that finished within `timeout`; a signal ends the wait early."""
        assert self._wake is not None
        waker: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
        waiting: set[asyncio.Future[Any]] = {*inflight, waker}
        try:
            done, _ = await asyncio.wait(
                waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waker.cancel()
        self._wake.clear()
        return {future for future in done if future is not waker}


def strategy_settings(store: Store) -> SettingsFor:
    """A strategy version's record and parsed settings by sid (None when it is gone), each read
    and parsed once."""
    parsed: dict[str, tuple[dict[str, Any], Settings] | None] = {}

    def settings_for(sid: str) -> tuple[dict[str, Any], Settings] | None:
        if sid not in parsed:
            record = store.get_strategy(sid)
            parsed[sid] = None if record is None else (record, settings_of(record))
        return parsed[sid]

    return settings_for


def add_strategy_secret(redactor: Redactor, strategy: dict[str, Any]) -> None:
    """The strategy's secret is never stored or printed: as written, and as resolved when it is
    a `${env:NAME}` reference."""
    secret = strategy.get("secret")
    redactor.add(secret)
    if isinstance(secret, str) and "${env:" in secret:
        with contextlib.suppress(ValueError):  # not set: nothing to hide
            redactor.add(resolve_env(secret, redactor))


def _leased(until: Any, now: datetime) -> bool:
    return isinstance(until, str) and datetime.fromisoformat(until) > now


# The outcomes of an attempt that failed (a retry, a pause or a failure follows).
FAILED_ATTEMPT = frozenset({"retried", "paused", "failed", "configuration error"})


def _outcome_name(event: dict[str, Any], status: str) -> str:
    if status == CONFIGURATION_ERROR:
        return "configuration error"
    if status == EventStatus.PENDING:
        return "retried"
    names: dict[str, str] = {
        EventStatus.PROCESSED: "processed",
        EventStatus.PAUSED: "paused",
        EventStatus.FAILED: "failed",
        EventStatus.ONHOLD: "on hold",
    }
    return names.get(status, status.lower())


def dry_run(store: Store, callbacks: Callbacks, options: RunOptions) -> list[dict[str, Any]]:
    """The requests the due events would send, assuming every call succeeds; nothing changes."""
    now = utcnow()
    preflight(store, options.env, options.instance, now, strategy_settings(store))
    redactor = Redactor()
    with redactor.guarding():
        return _plans(store, callbacks, options, redactor, now)


def _plans(
    store: Store, callbacks: Callbacks, options: RunOptions, redactor: Redactor, now: datetime
) -> list[dict[str, Any]]:
    from .dryrun import DryRunExecutor

    plans: list[dict[str, Any]] = []
    # Every due event, each instance's in date order on one copy of it: a run takes them one
    # after the other, so each is planned on the state the ones before it leave (all succeed).
    copies: dict[str, tuple[Loaded, Any]] = {}
    for row in store.due_events(
        _utc_text(now), statuses=(EventStatus.PENDING,), limit=10_000, instance_sid=options.instance
    ):
        sid = row["instanceSid"]
        if sid not in copies:
            loaded = load(store, sid, callbacks)
            copies[sid] = (loaded, copy.deepcopy(loaded.box))
        loaded, box = copies[sid]
        event = box.events[row["sid"]]
        if not loaded.engine.is_runnable(box, event):
            continue
        add_strategy_secret(redactor, loaded.strategy)
        executor = DryRunExecutor(loaded.engine.settings, options.env, redactor)
        engine = Engine(loaded.strategy, loaded.engine.settings, callbacks)
        engine.start_attempt(box, event, now, "dry-run")
        status = engine.finish_attempt(box, event, executor, now, now)
        plans.append(
            {
                "event": row["sid"],
                "instance": row["instanceSid"],
                "task": row["task"],
                "date": row["date"],
                "requests": executor.requests,
                # What a run would stop at before sending (a reference, a header): None if none.
                "configurationError": (
                    event["errorMessage"] if status == CONFIGURATION_ERROR else None
                ),
            }
        )
    return plans
