"""`strategy run`: claim due events, run their attempts through the engine, store the outcome.

Crash safety: claiming is one transaction (the event goes QUEUED -> EXECUTING with a lockOwner
and a lease, the instance gets the same lease). A runner that dies leaves leases that expire; the
next runner re-runs that attempt with the same attempt number, hence the same idempotency key.
Only one event of an instance runs at a time, so an instance is never written by two runners.
"""

from __future__ import annotations

import asyncio
import copy
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..core.callbacks import Callbacks
from ..core.engine import Engine
from ..core.records import iso
from .http import HttpExecutor, LoopBridge, Redactor, Stats
from .operations import Loaded, load, save
from .store import Store

LEASE = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )


@dataclass
class RunSummary:
    outcomes: Counter[str] = field(default_factory=Counter)
    stats: Stats = field(default_factory=Stats)

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
        self.executors: dict[str, HttpExecutor] = {}
        self.stopping = False

    # --- claiming ---------------------------------------------------------------------------

    def claim(self, slots: int, busy: set[str]) -> list[tuple[Loaded, str]]:
        """Up to `slots` due events of distinct, unleased instances, marked EXECUTING."""
        now = utcnow()
        claimed: list[tuple[Loaded, str]] = []
        with self.store.transaction():
            due = self.store.due_events(
                _utc_text(now),
                statuses=("PENDING", "EXECUTING"),
                limit=max(slots * 4, 16),
                instance_sid=self.options.instance,
            )
            for row in due:
                if len(claimed) >= slots or row["instanceSid"] in busy:
                    continue
                got = self._claim_one(row, now)
                if got is not None:
                    claimed.append(got)
                    busy.add(row["instanceSid"])
        return claimed

    def _claim_one(self, row: dict[str, Any], now: datetime) -> tuple[Loaded, str] | None:
        if row["status"] == "EXECUTING" and _leased(row.get("_leaseUntil"), now):
            return None
        loaded = load(self.store, row["instanceSid"], self.callbacks)
        box, state = loaded.box, loaded.box.state
        lease = state.get("_lease") or {}
        if lease.get("owner") not in (None, self.options.owner) and _leased(
            lease.get("until"), now
        ):
            return None
        event = box.events.get(row["sid"])
        if event is None:
            return None
        if event["status"] == "PENDING":
            if not loaded.engine.is_runnable(box, event):
                return None
            loaded.engine.start_attempt(box, event, now, self.options.owner)
        elif event["status"] == "EXECUTING":  # a dead runner's attempt: run it again, same number
            event["lockOwner"] = self.options.owner
            box.touch(event, now)
        else:
            return None
        until = iso(now + LEASE)
        event["_leaseUntil"] = until
        state["_lease"] = {"owner": self.options.owner, "until": until}
        save(self.store, loaded)
        return loaded, row["sid"]

    # --- running ----------------------------------------------------------------------------

    def executor_for(self, loaded: Loaded) -> HttpExecutor:
        sid = loaded.strategy["sid"]
        if sid not in self.executors:
            settings = loaded.engine.settings
            redact = settings.config.redact if settings.config and settings.config.redact else []
            self.redactor.names |= {n.lower() for n in redact}
            self.redactor.add(loaded.strategy.get("secret"))
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

    def settle(self, loaded: Loaded, sid: str, status: str) -> None:
        box = loaded.box
        event = box.events[sid]
        event.pop("_leaseUntil", None)
        box.state.pop("_lease", None)
        for key in ("taskStatus", "cachedTaskStatus", "errorMessage"):
            if event.get(key) is not None:
                event[key] = self.redactor.scrub(event[key])
        box.dirty.add(sid)
        with self.store.transaction():
            save(self.store, loaded)
        self.summary.outcomes[_outcome_name(event, status)] += 1

    async def run(self, on_progress: Callable[[RunSummary], None] | None = None) -> RunSummary:
        self.bridge = LoopBridge(self.options.timeout, self.options.concurrency)
        try:
            await self._loop(on_progress)
        finally:
            self.bridge.close()
        return self.summary

    async def _loop(self, on_progress: Callable[[RunSummary], None] | None) -> None:
        inflight: dict[asyncio.Task[str], tuple[Loaded, str]] = {}
        busy: set[str] = set()
        while True:
            free = self.options.concurrency - len(inflight)
            if free > 0 and not self.stopping:
                for loaded, sid in self.claim(free, busy):
                    task = asyncio.create_task(asyncio.to_thread(self.execute, loaded, sid))
                    inflight[task] = (loaded, sid)
            if not inflight:
                if self.options.watch and not self.stopping:
                    await asyncio.sleep(self.options.interval)
                    continue
                return
            done, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                loaded, sid = inflight.pop(task)
                busy.discard(loaded.box.instance["sid"])
                self.settle(loaded, sid, task.result())
                if on_progress:
                    on_progress(self.summary)


def _leased(until: Any, now: datetime) -> bool:
    return isinstance(until, str) and datetime.fromisoformat(until) > now


def _outcome_name(event: dict[str, Any], status: str) -> str:
    if status == "PENDING":
        return "retried"
    return {
        "PROCESSED": "processed",
        "PAUSED": "paused",
        "FAILED": "failed",
        "ONHOLD": "on hold",
    }.get(status, status.lower())


def dry_run(store: Store, callbacks: Callbacks, options: RunOptions) -> list[dict[str, Any]]:
    """The requests the due events would send, assuming every call succeeds; nothing changes."""
    from .dryrun import DryRunExecutor

    now = utcnow()
    plans: list[dict[str, Any]] = []
    redactor = Redactor()
    seen: set[str] = set()
    for row in store.due_events(
        _utc_text(now), statuses=("PENDING",), limit=10_000, instance_sid=options.instance
    ):
        if row["instanceSid"] in seen:
            continue
        seen.add(row["instanceSid"])
        loaded = load(store, row["instanceSid"], callbacks)
        box = copy.deepcopy(loaded.box)
        event = box.events[row["sid"]]
        if not loaded.engine.is_runnable(box, event):
            continue
        redactor.add(loaded.strategy.get("secret"))
        executor = DryRunExecutor(loaded.engine.settings, options.env, redactor)
        engine = Engine(loaded.strategy, loaded.engine.settings, callbacks)
        engine.start_attempt(box, event, now, "dry-run")
        engine.finish_attempt(box, event, executor, now, now)
        plans.append(
            {
                "event": row["sid"],
                "instance": row["instanceSid"],
                "task": row["task"],
                "date": row["date"],
                "requests": executor.requests,
            }
        )
    return plans
