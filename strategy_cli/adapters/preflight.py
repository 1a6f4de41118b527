"""The checks `strategy run` makes before it claims an event: the due tasks come from the store,
the variables from the environment, the rules from core/preflight.py."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..core.models import Settings
from ..core.preflight import DueTask, env_needs, environment_problem, missing_message
from ..errors import StrategyError, UsageError
from .store import Store

# A strategy version's record and settings by its sid (the runner's cache), None when gone.
SettingsFor = Callable[[str], "tuple[dict[str, Any], Settings] | None"]


def preflight(
    store: Store, env: str | None, instance: str | None, now: datetime, settings_for: SettingsFor
) -> None:
    """Raise, before anything is claimed, when `--env` or an unset variable would make every
    attempt of a due event fail unsent: a usage error for --env, an error for a variable."""
    due = []
    for strategy_sid, task in store.due_tasks(now, instance_sid=instance):
        found = settings_for(strategy_sid)
        if found is not None:
            due.append(DueTask(str(found[0].get("name")), found[1], task))
    problem = environment_problem(due, env)
    if problem:
        raise UsageError(problem)
    missing = missing_message(env_needs(due, env), os.environ)
    if missing:
        raise StrategyError(missing, hint="set it and run again: nothing was claimed or sent")
