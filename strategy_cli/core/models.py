"""Pydantic models of the platform's Strategy, Instance and Event shapes.

Field names are the wire's camelCase names, kept verbatim so a model dumps to exactly what the
platform sends (`../shared/reference/execution-api-get-pending-tasks.txt`). Python keywords
(`from`, `if`, `async`) use an alias. File models forbid unknown keys (a typo is a finding);
API models keep them (a newer platform must not break the client).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .domain import TERMINAL_EVENT_STATUSES  # noqa: F401 - re-exported

Unit = Literal["years", "months", "days", "hours", "minutes"]
HttpMethod = Literal["get", "delete", "post", "put", "patch"]
RuleIf = Literal["onError", "onBeforeRetry", "onBeforePause", "callback"]
EventStatus = Literal[
    "ONHOLD", "PENDING", "QUEUED", "EXECUTING", "PROCESSED", "FAILED", "CANCELED", "PAUSED"
]
InstanceStatus = Literal["ACTIVE", "CANCELED", "PAUSED"]
EventCancelReason = Literal[
    "INSTANCE_CANCEL_TASK_REQUESTED", "CANCEL_INSTANCE", "SKIP_CYCLE", "RESUME_MAIN_EVENT"
]
InstanceCancelReason = Literal[
    "HTTP_REQUEST", "CONTROLLER_HELPER", "MAX_ATTEMPTS", "CREATE_CYCLE_ERROR"
]


def integral(value: Any) -> Any:
    """An integral float (`1.0`) as the integer it stands for: the platform's reference types
    counts as `number`, and JSON writers often emit `2.0`. Anything else is left for the strict
    integer check to report (`1.5`, `"3"`, `true`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field of a strategy file: an int, or a float with no fractional part. The
# validator comes last so that it runs first, and the bounds stay on the integer itself.
INTEGRAL = BeforeValidator(integral)
NonNegInt = Annotated[int, Field(ge=0, strict=True), INTEGRAL]
Bag = dict[str, Any]


class FileModel(BaseModel):
    """A part of a strategy file: unknown keys are errors."""

    # Keys by their file names only: `from_` in a file is an unknown key, not `from`.
    model_config = ConfigDict(extra="forbid", strict=True)


class ApiModel(BaseModel):
    """A record as the platform sends it: unknown keys are kept, never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- time -------------------------------------------------------------------------------------


class ResetTo(FileModel):
    month: Annotated[int, Field(ge=1, le=12, strict=True), INTEGRAL] | None = None
    day: Annotated[int, Field(ge=1, le=31, strict=True), INTEGRAL] | None = None
    hour: Annotated[int, Field(ge=0, le=24, strict=True), INTEGRAL] | None = None
    minute: Annotated[int, Field(ge=0, le=59, strict=True), INTEGRAL] | None = None


class Delay(FileModel):
    unit: Unit
    amount: NonNegInt
    from_: str | None = Field(default=None, alias="from")
    resetTo: ResetTo | None = None
    retryEventCallback: str | None = None


class RetryDelay(FileModel):
    unit: Unit
    amount: NonNegInt


class RetryConfig(FileModel):
    times: NonNegInt
    retryAfter: Delay | None = None
    pauseBeforeCancel: bool | None = None
    retryStrategy: list[RetryDelay] | None = None


# --- steps and tasks --------------------------------------------------------------------------


class NextStepRule(FileModel):
    if_: RuleIf = Field(alias="if")
    ifCallback: str | None = None
    description: str | None = None
    nextStep: str | None = None


class Step(FileModel):
    key: str
    description: str | None = None
    retryConfig: RetryConfig | None = None
    resetAttempts: bool | None = None
    action: str | None = None
    final: bool | None = None
    controller: str | None = None
    controllerCallback: str | None = None
    resumeControllerCallback: str | None = None
    optional: bool | None = None
    repeatOnRetry: bool | None = None
    nextStep: str | None = None
    nextStepRules: list[NextStepRule] | None = None


class Task(FileModel):
    key: str
    description: str | None = None
    retryConfig: RetryConfig | None = None
    steps: list[Step]
    initialStep: str


# --- services and actions ---------------------------------------------------------------------


class RequestParts(FileModel):
    headers: Bag | None = None
    params: Bag | None = None
    data: Bag | None = None
    attributes: Bag | None = None


class Action(RequestParts):
    key: str
    service: str
    method: str


class BaseUrl(FileModel):
    environment: str
    url: str


class Authorization(RequestParts):
    environment: str
    url: str
    method: HttpMethod
    noCache: bool | None = None
    # The reference renders these next to the authorization list; accepted on both levels.
    credentialPath: str | None = None
    credentialType: str | None = None


class Method(FileModel):
    key: str
    description: str | None = None
    url: str
    method: HttpMethod
    async_: bool | None = Field(default=None, alias="async")
    requestValidation: str | None = None
    responseValidation: Bag | None = None


class Service(FileModel):
    key: str
    description: str | None = None
    baseUrls: list[BaseUrl]
    authorization: list[Authorization] | None = None
    credentialPath: str | None = None
    credentialType: str | None = None
    methods: list[Method]


# --- schedule ---------------------------------------------------------------------------------


class LeadingUpTask(FileModel):
    task: str | None = None
    scheduleBefore: Delay | None = None


class Calendar(FileModel):
    key: str
    description: str | None = None
    runOnCycle: Annotated[int, Field(ge=1, strict=True), INTEGRAL] | None = None
    runOnCycleCallback: str | None = None
    nextCycleDateCallback: str | None = None
    scheduleAfter: Delay
    task: str | None = None
    leadingUpTasks: list[LeadingUpTask] | None = None


class Schedule(FileModel):
    initialDelay: Delay | None = None
    calendars: list[Calendar]


class LifecycleTask(FileModel):
    """An onCreateTasks or onCancelTasks item."""

    delayBy: Delay | None = None
    manualTrigger: bool | None = None
    createIf: str | None = None
    task: str


class Config(FileModel):
    requestDelayTime: Annotated[float, Field(ge=0, le=5000)] | None = None  # ms; a number
    manualTrigger: bool | None = None
    timezone: str | None = None
    instanceValidation: Bag | None = None
    # Extension of this tool: extra header/field names to redact in stored request records.
    redact: list[str] | None = None


class EncryptedSettings(FileModel):
    iv: str
    hash: str
    encryptedText: str


class Settings(FileModel):
    config: Config | None = None
    schedule: Schedule
    onCreateTasks: list[LifecycleTask] | None = None
    onCancelTasks: list[LifecycleTask] | None = None
    services: list[Service]
    tasks: list[Task]
    actions: list[Action]
    encryptedSettings: EncryptedSettings | None = None


class StrategyFile(FileModel):
    """One strategy file. Server-assigned fields may appear and are ignored."""

    name: str
    description: str | None = None
    version: Annotated[int, Field(ge=1, strict=True), INTEGRAL] = 1
    secret: str | None = None
    settings: Settings
    sid: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


# --- records ----------------------------------------------------------------------------------


class TaskResult(ApiModel):
    step: str
    success: bool
    fromCache: bool | None = None
    message: str | None = None
    stack: str | None = None
    httpData: Bag | None = None
    data: Any = None
    afterResumeData: Any = None
    overrides: Bag | None = None
    correlationId: str | None = None


class TaskStatus(ApiModel):
    lastStep: str
    taskResults: list[TaskResult] | None = None


class NextEvent(ApiModel):
    sid: str
    date: datetime


class Strategy(ApiModel):
    """A stored strategy as the platform returns it."""

    createdAt: datetime | None = None
    updatedAt: datetime | None = None
    sid: str
    name: str
    description: str | None = None
    secret: str
    version: int = 1
    settings: Bag


class Instance(ApiModel):
    createdAt: datetime | None = None
    updatedAt: datetime | None = None
    sid: str
    description: str | None = None
    strategyId: str
    status: InstanceStatus
    cycle: int
    startDate: datetime
    endDate: datetime | None = None
    executionDate: datetime
    executionDay: int
    attributes: Bag | None = None
    nextEvent: NextEvent | None = None
    cancelReason: InstanceCancelReason | None = None
    strategy: Strategy | None = None


class Event(ApiModel):
    createdAt: datetime | None = None
    updatedAt: datetime | None = None
    sid: str
    instanceSid: str
    strategySid: str
    status: EventStatus
    main: bool
    afterCancellation: bool | None = None
    task: str
    date: datetime
    data: Bag | None = None
    scheduledAt: datetime | None = None
    scheduleDelta: float | None = None
    executedAt: datetime | None = None
    executionDelta: float | None = None
    createdCycle: int | None = None
    finishedAt: datetime | None = None
    finishDelta: float | None = None
    executionTime: float | None = None
    attempt: int | None = None
    jobId: str | None = None
    correlationId: str | None = None
    taskStatus: TaskStatus | None = None
    cachedTaskStatus: TaskStatus | None = None
    errorMessage: str | None = None
    cancelReason: EventCancelReason | None = None
    serverLockOwner: str | None = None
    lockOwner: str | None = None
    execStrategyVersion: int | None = None
    resumeStrategyVersion: int | None = None
    instance: Instance | None = None
    strategy: Strategy | None = None
