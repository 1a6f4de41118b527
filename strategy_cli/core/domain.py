"""The platform's vocabulary, in one place: statuses, event kinds, cancel reasons, note kinds.

The values are the platform's strings (`../shared/reference/execution-api-get-pending-tasks.txt`).
They are `StrEnum`s, so a member compares equal to, hashes like and serializes as its plain
string: records, JSON outputs and the store keep the exact text they had. Everything else that
names a status derives from here (tests/core/test_domain.py checks it).
"""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """An event's status, in the reference's order (docs/semantics.md section 4)."""

    ONHOLD = "ONHOLD"
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    PAUSED = "PAUSED"


class InstanceStatus(StrEnum):
    """An instance's status, in the reference's order."""

    ACTIVE = "ACTIVE"
    CANCELED = "CANCELED"
    PAUSED = "PAUSED"


class EventKind(StrEnum):
    """Why an event exists: the engine's own distinction, finer than the wire's `main` and
    `afterCancellation` flags (core/records.py kind_of maps between them)."""

    MAIN = "main"
    LEADING_UP = "leading-up"
    ON_CREATE = "on-create"
    ON_CANCEL = "on-cancel"


class CancelReason(StrEnum):
    """Why an event or an instance was canceled: the reference's two lists, as one vocabulary
    (EVENT_CANCEL_REASONS and INSTANCE_CANCEL_REASONS split it per record)."""

    # An event's
    INSTANCE_CANCEL_TASK_REQUESTED = "INSTANCE_CANCEL_TASK_REQUESTED"
    CANCEL_INSTANCE = "CANCEL_INSTANCE"
    SKIP_CYCLE = "SKIP_CYCLE"
    RESUME_MAIN_EVENT = "RESUME_MAIN_EVENT"
    # An instance's
    HTTP_REQUEST = "HTTP_REQUEST"
    CONTROLLER_HELPER = "CONTROLLER_HELPER"
    MAX_ATTEMPTS = "MAX_ATTEMPTS"
    CREATE_CYCLE_ERROR = "CREATE_CYCLE_ERROR"


class NoteKind(StrEnum):
    """What a note of a run or a simulation reports (not a platform field: ours)."""

    DST_GAP = "dst-gap"
    DST_FOLD = "dst-fold"
    MONTH_CLAMP = "month-clamp"
    LEADING_UP_SKIPPED = "leading-up-skipped"
    LIMIT = "limit"
    CALLBACK_ERROR = "callback-error"


EVENT_CANCEL_REASONS: tuple[CancelReason, ...] = (
    CancelReason.INSTANCE_CANCEL_TASK_REQUESTED,
    CancelReason.CANCEL_INSTANCE,
    CancelReason.SKIP_CYCLE,
    CancelReason.RESUME_MAIN_EVENT,
)
INSTANCE_CANCEL_REASONS: tuple[CancelReason, ...] = tuple(
    r for r in CancelReason if r not in EVENT_CANCEL_REASONS
)

# Statuses that end an event's life: nothing moves an event out of them.
TERMINAL_EVENT_STATUSES: frozenset[EventStatus] = frozenset(
    {EventStatus.PROCESSED, EventStatus.FAILED, EventStatus.CANCELED}
)
# Statuses of an event still waiting for its date or for a hand (`trigger`, `resume`).
WAITING_EVENT_STATUSES: frozenset[EventStatus] = frozenset(
    {EventStatus.PENDING, EventStatus.ONHOLD}
)
# Kinds of events the schedule plans (the others are lifecycle callbacks).
SCHEDULED_KINDS: tuple[EventKind, ...] = (EventKind.MAIN, EventKind.LEADING_UP)
