"""Instances in the store as engine boxes: resolve sids, load, change, save in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.records import public
from ..errors import StrategyError

if TYPE_CHECKING:  # heavy (pydantic models, sqlite-utils): imported where they are used
    from ..core.callbacks import Callbacks
    from ..core.engine import Engine, InstanceBox
    from ..core.models import Settings
    from .store import Record, Store

MIN_PREFIX = 8


class NotFound(StrategyError):
    pass


def resolve_sid(
    kind: str, text: str, matcher: Callable[[str, int], list[str]], exact: Callable[[str], bool]
) -> str:
    """An exact sid, or a unique prefix of at least 8 characters; otherwise suggest the closest."""
    if exact(text):
        return text
    if len(text) >= MIN_PREFIX:
        found = matcher(text, 6)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise StrategyError(
                f"{kind} prefix '{text}' is ambiguous: {', '.join(found[:5])}",
                hint="type more characters of the sid",
            )
    near = matcher(text[:4], 200) if len(text) >= 4 else []
    close = _closest(text, near)
    hint = f"did you mean {' or '.join(close)}?" if close else None
    if len(text) < MIN_PREFIX:  # too short to be used, whether or not something starts so
        raise NotFound(
            f"{kind} sid '{text}' is too short: give the full sid or a unique prefix of at "
            f"least {MIN_PREFIX} characters",
            hint=hint,
        )
    raise NotFound(f"no {kind} '{text}' in the store", hint=hint)


def _closest(text: str, candidates: list[str]) -> list[str]:
    """Sids whose beginning looks like what was typed (a typo in a prefix still matches)."""
    import difflib

    scored = [(difflib.SequenceMatcher(None, text, c[: len(text)]).ratio(), c) for c in candidates]
    return [c for score, c in sorted(scored, reverse=True)[:3] if score >= 0.5]


def instance_sid(store: Store, text: str) -> str:
    return resolve_sid(
        "instance", text, store.match_instance_sids, lambda s: store.get_instance(s) is not None
    )


def event_sid(store: Store, text: str) -> str:
    return resolve_sid(
        "event", text, store.match_event_sids, lambda s: store.get_event(s) is not None
    )


@dataclass
class Loaded:
    box: InstanceBox
    strategy: dict[str, Any]
    engine: Engine
    simulated: bool


def load(store: Store, sid: str, callbacks: Callbacks | None = None) -> Loaded:
    from ..core.callbacks import DefaultCallbacks
    from .strategies import settings_of

    found = store.get_instance(sid)
    if found is None:
        raise NotFound(f"no instance '{sid}' in the store")
    record, state = found
    strategy = store.get_strategy(record["strategyId"])
    if strategy is None:
        raise StrategyError(
            f"instance {sid}: its strategy {record['strategyId']} is missing from the store"
        )
    box = box_of(store, sid, record, state)
    return engine_for(box, strategy, settings_of(strategy), callbacks or DefaultCallbacks())


def box_of(store: Store, sid: str, record: Record, state: Record) -> InstanceBox:
    """An instance read from the store with all its events."""
    from ..core.engine import InstanceBox

    return InstanceBox(record, state, {e["sid"]: e for e in store.events_of(sid)})


def engine_for(
    box: InstanceBox, strategy: Record, settings: Settings, callbacks: Callbacks
) -> Loaded:
    """The loaded instance, with an engine that numbers new events after the stored ones (the
    only place that restores the engine's sequence: a wrong one would reorder events)."""
    from ..core.engine import Engine

    engine = Engine(strategy, settings, callbacks)
    engine._seq = max((e.get("_seq", 0) for e in box.events.values()), default=0)
    simulated = bool(box.instance.get("_simulated") or box.state.get("simulated"))
    return Loaded(box, strategy, engine, simulated)


def save(store: Store, loaded: Loaded) -> None:
    box = loaded.box
    store.put_instance(box.instance, box.state, simulated=loaded.simulated)
    store.put_events([box.events[s] for s in sorted(box.dirty)], simulated=loaded.simulated)
    box.dirty.clear()


@contextmanager
def changing(store: Store, sid: str, callbacks: Callbacks | None = None) -> Iterator[Loaded]:
    """Load, let the caller change, and save, all in one write transaction."""
    with store.transaction():
        loaded = load(store, sid, callbacks)
        yield loaded
        save(store, loaded)


def public_strategy(record: dict[str, Any]) -> dict[str, Any]:
    """A strategy as the platform shows it, with its secret redacted: secrets never leave."""
    out = public(record)
    out["secret"] = redact_secret(out.get("secret"))
    return out


def redact_secret(secret: Any) -> str:
    return "***" if secret else ""


def redact_tasks(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A get-tasks array (from the platform) with every embedded strategy secret redacted."""
    for event in doc:
        for holder in (event, event.get("instance")):
            strategy = holder.get("strategy") if isinstance(holder, dict) else None
            if isinstance(strategy, dict) and "secret" in strategy:
                strategy["secret"] = redact_secret(strategy["secret"])
    return doc


def with_strategy(instance: dict[str, Any], strategy: dict[str, Any]) -> dict[str, Any]:
    return {**public(instance), "strategy": public_strategy(strategy)}


def tasks_document(store: Store, sid: str) -> list[dict[str, Any]]:
    """Exactly the platform's get-tasks response: pending events embedding instance and strategy."""
    found = store.get_instance(sid)
    if found is None:
        raise NotFound(f"no instance '{sid}' in the store")
    instance = found[0]
    strategy = store.get_strategy(instance["strategyId"]) or {
        "sid": instance["strategyId"],
        "name": "?",
    }
    inst = with_strategy(instance, strategy)
    strat = public_strategy(strategy)
    return [
        {**public(e), "instance": inst, "strategy": strat}
        for e in _by_date(store.pending_events_of(sid))
    ]


def _by_date(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By date, then in creation order (the store breaks ties by sid, which is random)."""
    from datetime import datetime

    return sorted(events, key=lambda e: (datetime.fromisoformat(e["date"]), e.get("_seq", 0)))
