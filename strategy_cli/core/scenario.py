"""What-if scenarios for simulation: scripted step outcomes, callback values and async resumes.

```yaml
outcomes:            # per "task.step": one entry per execution, the last one repeats
  charge.collect: [fail, fail, ok]
  charge.notify: {ok: true, status: 201, body: {id: x}}
callbacks:           # per callback name: a value, or a list consumed one per call
  isLastCycle: [false, false, true]
resume:              # async steps: when and with what data they are resumed
  onboarding.kyc: {after: {unit: hours, amount: 2}, data: {approved: true}}
manual: trigger      # ONHOLD (manualTrigger) events: `trigger` them at their date, or `hold`
environment: sandbox # which baseUrls entry requests are shown against (default: the first)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .attempt import StepOutcome
from .callbacks import DEFAULTS, CallbackKind
from .models import RetryDelay


class OutcomeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ok: bool = True
    status: int | None = None
    body: Any = None
    message: str | None = None


Outcome = Literal["ok", "fail"] | bool | OutcomeSpec


class ResumeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: RetryDelay = Field(default_factory=lambda: RetryDelay(unit="minutes", amount=0))
    data: Any = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: dict[str, Outcome | list[Outcome]] = Field(default_factory=dict)
    callbacks: dict[str, Any] = Field(default_factory=dict)
    resume: dict[str, ResumeSpec] = Field(default_factory=dict)
    manual: Literal["trigger", "hold"] = "trigger"
    environment: str | None = None


class Script:
    """Consumes a scenario's lists one entry per use; the last entry repeats."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.used: dict[str, int] = {}

    def next_outcome(self, key: str) -> StepOutcome | None:
        if key not in self.scenario.outcomes:
            return None
        return _outcome(self._take("o:" + key, self.scenario.outcomes[key]))

    def callback(self, name: str, kind: CallbackKind) -> Any:
        if name not in self.scenario.callbacks:
            return DEFAULTS[kind]
        return self._take("c:" + name, self.scenario.callbacks[name])

    def _take(self, key: str, entry: Any) -> Any:
        if not isinstance(entry, list):
            return entry
        if not entry:
            return None
        i = self.used.get(key, 0)
        self.used[key] = i + 1
        return entry[min(i, len(entry) - 1)]


class ScriptedCallbacks:
    def __init__(self, script: Script) -> None:
        self.script = script

    def call(self, name: str, kind: CallbackKind, context: Mapping[str, Any]) -> Any:
        return self.script.callback(name, kind)


def _outcome(entry: Any) -> StepOutcome:
    if isinstance(entry, OutcomeSpec):
        message = entry.message or (
            None if entry.ok else f"scripted failure (status {entry.status})"
        )
        return StepOutcome(
            entry.ok, data=entry.body, message=message, httpData=_status(entry.status)
        )
    ok = entry is True or entry == "ok"
    return StepOutcome(ok, message=None if ok else "scripted failure")


def _status(status: int | None) -> dict[str, Any] | None:
    return None if status is None else {"response": {"status": status}}
