"""Event statuses that end an event's life (docs/semantics.md section 4)."""

TERMINAL_EVENT_STATUSES: frozenset[str] = frozenset({"PROCESSED", "FAILED", "CANCELED"})
