"""The documentation of every part of a strategy file, for the exported JSON Schema.

`strategy schema` generates the schema from the pydantic models (`core/models.py`); this table
adds what editors (yaml-language-server, VS Code) show on hover: a plain `description` for every
model and field, and for some a `markdownDescription` that adds detail and a short example. The
text follows the platform's reference (`../shared/reference/execution-api-get-pending-tasks.txt`:
field names and meanings) and docs/semantics.md (the behaviour the reference leaves out). It lives
here, not on the model fields, so that the models stay the shape and nothing else.

DOCS maps a model's name to its entries: `""` for the model itself, else a field's name as written
in a file (its alias: `from`, `if`, `async`). Each entry is (description, extra): `extra`, when
given, is markdown appended to the description to make the markdownDescription, so the markdown
always says at least what the plain text says. Descriptions are rendered as markdown too: code
(`***`, `{{ }}`, `${env:NAME}`) goes in backticks.
"""

from __future__ import annotations

from textwrap import dedent
from typing import Any

Doc = tuple[str, str | None]

ROOT = "StrategyFile"  # the model of the whole file: its entries go on the schema's root
MODEL = ""  # the entry of a model's own description


def _plain(text: str) -> Doc:
    return (text, None)


def _more(text: str, prose: str = "", example: str = "") -> Doc:
    """An entry with markdown detail: `prose`, then `example` (YAML, written indented like the
    code around it) as a fenced block."""
    parts = [prose] if prose else []
    if example:
        parts.append("```yaml\n" + dedent(example).strip("\n") + "\n```")
    return (text, "\n\n".join(parts))


# One text for every field whose strings are templated (a method's `url`, an action's parts).
_TEMPLATES = (
    "`{{ path }}` is replaced when the request is built. Roots: `attributes.*` (the instance's "
    "attributes), `instance.*`, `event.*` (including `event.data`), `steps.KEY.data` (the body "
    "or controller data of an earlier step of this attempt; also `.success`, `.message` and "
    "`.afterResumeData`) and `env` (the `--env` name). Paths use dots and `[n]`. A string that "
    "is exactly one reference keeps the value's JSON type. References only look data up: no code "
    "runs. `${env:NAME}` is read from the environment at run time. A reference that does not "
    "resolve, or an unset variable, is a configuration error in `strategy run`: nothing is sent, "
    "no retry is used and the event stays due."
)
_UNIT = (
    "Unit of time: years, months or days (calendar units: the time of day is kept and a day "
    "missing from the month is clamped to its last day), or hours or minutes (elapsed time)."
)
# The retry policy, on the model and on the fields that hold one.
_RETRY_POLICY = (
    "`times: 3` allows 4 attempts in all; no `retryConfig` at all behaves as `times: 0`. The wait "
    "before retry k is the answer of `retryAfter`'s `retryEventCallback`, else "
    "`retryStrategy[k-1]` (the last entry repeating), else `retryAfter`, else none. With "
    "`pauseBeforeCancel: true`, the event and its instance pause when no retry is left."
)
_RETRY_EXAMPLE = (
    "retryConfig: {times: 3, retryAfter: {unit: hours, amount: 1}, pauseBeforeCancel: true}"
)
_AMOUNT = "Amount of the unit: an integer of at least 0."
_FREE_TEXT = "free text for people."

DOCS: dict[str, dict[str, Doc]] = {
    ROOT: {
        MODEL: _more(
            "An execution strategy: its name, description, version and secret, and its settings "
            "(schedule, tasks, services and actions). Keys are the platform's, in camelCase, so a "
            "file can be sent to the platform unchanged.",
            "Any string may be `${env:NAME}`: it is read from the environment when `strategy run` "
            "uses it, never when validating or simulating, so secrets need not live in the file.",
            """
            name: smallest
            settings:
              config: {timezone: Europe/Berlin}
              schedule:
                calendars:
                  - key: monthly
                    scheduleAfter: {unit: months, amount: 1}
                    task: charge
              services: []
              actions: []
              tasks:
                - key: charge
                  initialStep: done
                  steps:
                    - {key: done, final: true}
            """,
        ),
        "name": _plain(
            "Execution Strategy name (required): instances refer to their strategy by this name "
            "or by its sid."
        ),
        "description": _plain("Execution Strategy description: " + _FREE_TEXT),
        "version": _plain(
            "Execution Strategy version: an integer of at least 1 (default 1). Informational: "
            "the store numbers the versions it keeps 1, 2, ... in the order they are applied."
        ),
        "secret": _more(
            "Execution Strategy secret: clients send it in the Strategy-Secret header to read the "
            "strategy's pending tasks. It is shown as `***` in every output.",
            "Write it as `${env:NAME}` to keep it out of the file:",
            "secret: ${env:BILLING_STRATEGY_SECRET}",
        ),
        "settings": _plain(
            "The strategy's settings (required): configuration, schedule, on-create and "
            "on-cancel tasks, services, tasks and actions."
        ),
        "sid": _plain(
            "Execution Strategy ID, assigned by the platform: allowed so that a strategy "
            "downloaded from the platform validates, and ignored."
        ),
        "createdAt": _plain("Entity creation date, assigned by the platform; ignored."),
        "updatedAt": _plain("Entity update date, assigned by the platform; ignored."),
    },
    "Settings": {
        MODEL: _plain("The settings of a strategy: what it schedules and how each task runs."),
        "config": _plain(
            "Strategy configuration: time zone, validation of instance attributes, the wait "
            "before service calls, manual triggering and redaction."
        ),
        "schedule": _plain(
            "Schedule configuration (required): an optional initial delay and the calendars "
            "that date each cycle of an instance."
        ),
        "onCreateTasks": _more(
            "Tasks to execute on instance creation: one event per item, dated at the instance's "
            "start moved by the item's delayBy.",
            "An item whose `createIf` callback returns false creates nothing, and "
            "`schedule.initialDelay` does not move these events.",
            """
            onCreateTasks:
              - task: welcome
                delayBy: {unit: hours, amount: 1}
            """,
        ),
        "onCancelTasks": _more(
            "Tasks to execute on instance cancellation: one event per item, dated at the moment "
            "of cancellation moved by the item's delayBy.",
            "These events are marked `afterCancellation: true` and still run on the cancelled "
            "instance.",
            """
            onCancelTasks:
              - task: farewell
                createIf: wants_farewell
            """,
        ),
        "services": _plain(
            "List of services (required, may be empty): the HTTP APIs that actions call, with "
            "their base URLs per environment, authorization and methods."
        ),
        "tasks": _plain("List of tasks (required): each is a graph of steps that one event runs."),
        "actions": _plain(
            "List of actions (required, may be empty): each names a service method and gives "
            "the headers, query parameters and body of its requests."
        ),
        "encryptedSettings": _plain(
            "Encrypted settings as the platform keeps them (encryption iv, hash and encrypted "
            "text). Kept as written: strategy neither decrypts nor uses them."
        ),
    },
    "Config": {
        MODEL: _plain("Strategy configuration."),
        "requestDelayTime": _more(
            "Time in milliseconds to wait before each service call: a number from 0 to 5000.",
            example="""
            config:
              requestDelayTime: 250   # a quarter of a second before each call
            """,
        ),
        "manualTrigger": _plain(
            "If true, events are not queued automatically: every event is created ONHOLD and "
            "waits until an operator triggers it (`strategy event trigger SID`)."
        ),
        "timezone": _plain(
            "Time zone to use: an IANA name such as Europe/Berlin (default UTC). All calendar "
            "arithmetic happens in it, and times written without an offset are in it."
        ),
        "instanceValidation": _more(
            "Instance attributes validation: a JSON Type Definition schema (RFC 8927) that the "
            "attributes of every new instance must match.",
            "Every failing path is reported and no instance is created. Timestamps accept RFC "
            "3339 with `T` and `Z` in either case.",
            """
            config:
              instanceValidation:
                properties:
                  accountId: {type: string}
                  firstDueDate: {type: timestamp}
                optionalProperties:
                  email: {type: string}
            """,
        ),
        "redact": _more(
            "An extension of this tool: further header or body field names whose values are "
            "replaced by `***` in stored request records and in all output. Names compare "
            "without regard to case.",
            "`Authorization`, `Proxy-Authorization`, `Strategy-Secret`, `X-Api-Key`, cookies, "
            "credentials and every `${env:NAME}` value are always hidden; list the others here. "
            "A listed field is hidden anywhere in a request or a response, nested bodies "
            "included.",
            """
            config:
              redact: [X-Session, cardNumber]
            """,
        ),
    },
    "Schedule": {
        MODEL: _plain("Schedule configuration: when each cycle of an instance runs."),
        "initialDelay": _more(
            "Initial scheduling delay: moves the date of cycle 1 only, before the scheduleAfter "
            "of the calendar that runs it.",
            "Cycle 1's date is the start moved by `initialDelay`, then by its calendar's "
            "`scheduleAfter`; later cycles and `onCreateTasks` are not moved.",
            """
            schedule:
              initialDelay: {unit: days, amount: 14}   # a trial fortnight
              calendars:
                - key: monthly
                  scheduleAfter: {unit: months, amount: 1}
                  task: charge
            """,
        ),
        "calendars": _more(
            "List of calendars (required). Cycle n is run by the first calendar whose runOnCycle "
            "is n, else the first whose runOnCycleCallback returns true, else the first with "
            "neither (the default calendar); when none applies, the schedule ends.",
            "A first charge on the customer's own due date, then on the 15th of every month:",
            """
            calendars:
              - key: first
                runOnCycle: 1
                scheduleAfter: {unit: days, amount: 0, from: firstDueDate}
                task: charge
              - key: later
                scheduleAfter: {unit: months, amount: 1, resetTo: {day: 15}}
                task: charge
            """,
        ),
    },
    "Calendar": {
        MODEL: _plain(
            "A calendar: how the date of a cycle it runs is computed, and which tasks the cycle "
            "runs."
        ),
        "key": _plain("Calendar key, unique among the calendars."),
        "description": _plain("Calendar description: " + _FREE_TEXT),
        "runOnCycle": _plain(
            "Cycle number on which to run this calendar: an integer of at least 1. A calendar "
            "with runOnCycle runs only that cycle."
        ),
        "runOnCycleCallback": _plain(
            "Name of a callback that returns whether this calendar runs a cycle (true or false); "
            "asked when no calendar's runOnCycle is that cycle."
        ),
        "nextCycleDateCallback": _plain(
            "Name of a callback that calculates the date of a cycle this calendar runs, instead "
            "of scheduleAfter: it returns an instant, or null to use scheduleAfter."
        ),
        "scheduleAfter": _more(
            "Schedule after time (required): how long after the previous cycle's date (for "
            "cycle 1, after the start and any initialDelay) a cycle run by this calendar is dated.",
            "`years`, `months` and `days` keep the time of day and clamp a day missing from the "
            "month to its last day without drifting (a schedule on the 31st is back on the 31st "
            "after February); `hours` and `minutes` are elapsed time. `from` counts from a date "
            "in the instance's attributes instead; `resetTo` then sets month, day, hour or "
            "minute.",
            "scheduleAfter: {unit: months, amount: 1, resetTo: {day: 15, hour: 9, minute: 0}}",
        ),
        "task": _plain(
            "Key of the task that a cycle of this calendar runs (its main event). Without one, "
            "the cycle creates no main event and the instance advances once its date has passed."
        ),
        "leadingUpTasks": _more(
            "Tasks to run leading up to the main task: one event per item, dated its "
            "scheduleBefore ahead of the cycle's date, in the order written.",
            "A leading-up date earlier than the instance's start is not created; one with a "
            "`scheduleBefore` of 0 runs just before the main event, at the same instant.",
            """
            leadingUpTasks:
              - task: remind
                scheduleBefore: {unit: days, amount: 3}
            """,
        ),
    },
    "LeadingUpTask": {
        MODEL: _plain("A task run ahead of a cycle's main task."),
        "task": _plain("Key of the task to run. An item without a task creates no event."),
        "scheduleBefore": _more(
            "Schedule before time: how long before the cycle's date the event is dated (without "
            "it, at the cycle's date).",
            "Counted back from the cycle's actual date (after clamping) with the arithmetic of "
            "any delay: `days` keep the time of day across a DST change, `hours` are elapsed "
            "time.",
            "scheduleBefore: {unit: hours, amount: 24}",
        ),
    },
    "LifecycleTask": {
        MODEL: _plain(
            "An onCreateTasks or onCancelTasks item: a task run once when an instance is created "
            "or cancelled."
        ),
        "delayBy": _more(
            "Delay after the instance's creation (its start) or cancellation before the event "
            "is due; without it, the event is due at once.",
            example="""
            onCreateTasks:
              - task: welcome-call
                delayBy: {unit: days, amount: 2, resetTo: {hour: 10, minute: 0}}
            """,
        ),
        "manualTrigger": _plain(
            "If true, this event is created ONHOLD and waits until an operator triggers it."
        ),
        "createIf": _plain(
            "Name of a callback that returns whether the event is created (true or false); a "
            "name that no callback module defines counts as true."
        ),
        "task": _plain("Name (key) of the task to execute (required)."),
    },
    "Delay": {
        MODEL: _more(
            "A delay: an amount of a unit of time, optionally counted from a date in the "
            "instance's attributes and reset to fixed calendar values.",
            "Moving a date: start from the `from` attribute (if any), take its wall time in "
            "`config.timezone`, add `amount` units, apply `resetTo`, then turn the wall time "
            "back into an instant (a time in a DST gap moves forward by the gap's length; an "
            "ambiguous one takes the earlier instant).",
        ),
        "unit": _plain(_UNIT),
        "amount": _plain(_AMOUNT),
        "from": _more(
            "Calculate from a date in the instance attributes: the name of an attribute holding "
            "an RFC 3339 timestamp or a YYYY-MM-DD date (00:00 local), used as the base instead.",
            "A missing or unreadable attribute is an error (for a cycle's date it cancels the "
            "instance with `CREATE_CYCLE_ERROR`). A timestamp without an offset is a wall time "
            "in `config.timezone`.",
            "scheduleAfter: {unit: days, amount: 0, from: firstDueDate, resetTo: {hour: 9}}",
        ),
        "resetTo": _more(
            "Reset time to the specified values after the delay is added: any of month, day, "
            "hour and minute. Fields not named are kept; seconds are zeroed.",
            "`day` is clamped to the month (31 in April is the 30th) and `hour: 24` is 00:00 of "
            "the next day (then an unnamed `minute` is 0).",
            """
            scheduleAfter:
              unit: months
              amount: 1
              resetTo: {day: 1, hour: 8, minute: 30}   # 08:30 on the 1st of next month
            """,
        ),
        "retryEventCallback": _more(
            "Name of a callback that gives the wait before each retry (read only on a "
            "retryConfig's retryAfter). When it returns null, retryStrategy or retryAfter "
            "applies.",
            "It receives the failed attempt's number as `attempt` and returns `{unit, amount}`, "
            "a number of minutes, or `null`.",
            """
            retryConfig:
              times: 5
              retryAfter: {unit: minutes, amount: 10, retryEventCallback: backoff}
            """,
        ),
    },
    "ResetTo": {
        MODEL: _plain("Calendar fields to set on a delayed date; fields not named are kept."),
        "month": _plain("Reset month to this value: 1 to 12."),
        "day": _plain("Reset day of the month to this value: 1 to 31, clamped to the month's end."),
        "hour": _plain("Reset hour to this value: 0 to 24, where 24 is 00:00 of the next day."),
        "minute": _plain("Reset minute to this value: 0 to 59."),
    },
    "RetryConfig": {
        MODEL: _more(
            "Retry configuration: how many times a failed attempt is retried, how long to wait "
            "before each retry, and what happens when no retry is left.",
            "A failing step's own `retryConfig` wins over its task's. " + _RETRY_POLICY,
        ),
        "times": _plain(
            "Number of times to retry: an integer of at least 0 (times: 3 allows 4 attempts in "
            "all)."
        ),
        "retryAfter": _more(
            "The wait before each retry when retryStrategy gives none; its retryEventCallback, "
            "if set, is asked first.",
            "A retry's date is the failure's instant moved by the delay, with the arithmetic of "
            "any delay.",
            """
            retryConfig:
              times: 2
              retryAfter: {unit: hours, amount: 6}
            """,
        ),
        "pauseBeforeCancel": _plain(
            "When the maximum number of attempts has been reached, pause instead of cancelling: "
            "after any onBeforePause step, the event and its instance become PAUSED for an "
            "operator to resume. Without it the event is FAILED, and a failed main event "
            "cancels its instance."
        ),
        "retryStrategy": _more(
            "The waits before successive retries: retryStrategy[k-1] is the wait before retry k, "
            "and the last entry repeats once the list is exhausted. It wins over retryAfter.",
            "A retry ladder: 1, 2, then 5 days after each failure.",
            """
            retryConfig:
              times: 3
              retryStrategy:
                - {unit: days, amount: 1}
                - {unit: days, amount: 2}
                - {unit: days, amount: 5}
            """,
        ),
    },
    "RetryDelay": {
        MODEL: _plain("A wait before one retry: an amount of a unit of time."),
        "unit": _plain(_UNIT),
        "amount": _plain(_AMOUNT),
    },
    "Task": {
        MODEL: _plain("A task: a graph of steps that one event runs, from its initialStep."),
        "key": _plain(
            "Task key, unique among the tasks: what calendars, leading-up, on-create and "
            "on-cancel items name."
        ),
        "description": _plain("Task description: " + _FREE_TEXT),
        "retryConfig": _more(
            "Task retry configuration: the retry policy of a failed attempt, unless the failing "
            "step has its own.",
            _RETRY_POLICY,
            _RETRY_EXAMPLE,
        ),
        "steps": _plain("List of steps (required): the nodes of the task's graph."),
        "initialStep": _plain("Task initial step: the key of the step every attempt starts at."),
    },
    "Step": {
        MODEL: _more(
            "A step of a task: a service call (action), a callback (controller) or neither (a "
            "routing step), and where the flow goes next.",
            "On success: `final: true` ends the task; else the first `nextStepRules` item with "
            "`if: callback` whose `ifCallback` returns true names the next step; else "
            "`nextStep`; else the task ends. On failure: an `optional` step goes on as on "
            "success; else an `if: onError` rule names the next step; else the attempt fails.",
        ),
        "key": _plain(
            "Step key, unique within its task: what initialStep, nextStep and "
            "`{{ steps.KEY.data }}` templates name."
        ),
        "description": _plain("Step description: " + _FREE_TEXT),
        "retryConfig": _more(
            "Step retry configuration: the retry policy when an attempt fails at this step, "
            "instead of the task's.",
            _RETRY_POLICY,
            _RETRY_EXAMPLE,
        ),
        "resetAttempts": _more(
            "Reset attempts: when this step succeeds, the event's attempt count goes back to 0, "
            "so the retries allowed start again.",
            "A reset changes how many retries remain, never which steps run again. A later step "
            "that always fails then retries for ever.",
        ),
        "action": _plain("Key of the action (a service method call) to execute with the step."),
        "final": _plain(
            "Is the step final: when it succeeds, the task ends successfully (even if nextStep "
            "is set)."
        ),
        "controller": _more(
            "Name of a controller callback to call in this step: its return value decides the "
            "step's success, data, message and overrides.",
            "`None` or `True` succeeds and `False` fails; a mapping may carry `success`, `data`, "
            "`message` and `overrides` (`attributes` merged into the instance's, `nextStep`, "
            "`cancelInstance: true`); any other value succeeds as the step's data.",
            """
            steps:
              - {key: grade, controller: grade_merchant, nextStep: notify}
            """,
        ),
        "controllerCallback": _plain(
            "Controller callback to use with the step: called like controller (which wins when "
            "both are set)."
        ),
        "resumeControllerCallback": _plain(
            "Name of a callback run when the event of this asynchronous step is resumed: it "
            "receives the resume data (resumeData), and its return value is stored as the "
            "step's afterResumeData (null stores the resume data itself)."
        ),
        "optional": _plain(
            "Is the step optional: if it fails, the flow goes on as on success (its result "
            "records success: false)."
        ),
        "repeatOnRetry": _plain(
            "Should the step execute again on retry: otherwise a step that succeeded in an "
            "earlier attempt of the event is not run again and its result is reused "
            "(fromCache: true)."
        ),
        "nextStep": _plain(
            "Key of the step to run after this one succeeds, unless a nextStepRules callback "
            "rule applies. Without it (and without final), the task ends after this step."
        ),
        "nextStepRules": _more(
            "Next step rules: branches taken after success (if: callback), on failure "
            "(onError), before a retry (onBeforeRetry) or before a pause (onBeforePause).",
            "The first `if: callback` rule whose `ifCallback` returns true wins over `nextStep`. "
            "`onError` handles the failure and the attempt goes on; the `onBeforeRetry` and "
            "`onBeforePause` steps run every time they are reached.",
            """
            nextStepRules:
              - {if: callback, ifCallback: needs_review, nextStep: review}
              - {if: onError, nextStep: tell-customer}
            """,
        ),
    },
    "NextStepRule": {
        MODEL: _plain("A next step rule: the step to run next when its condition holds."),
        "if": _plain(
            "Next step if event of this type: callback (after success, when ifCallback returns "
            "true), onError (after a failure, which it handles), onBeforeRetry (after a failed "
            "attempt, before its retry is scheduled) or onBeforePause (after the last attempt "
            "failed, before the event and instance pause)."
        ),
        "ifCallback": _plain(
            "Next step callback validator: the name of a callback that returns true or false; "
            "needed by if: callback."
        ),
        "description": _plain("Next step rule description: " + _FREE_TEXT),
        "nextStep": _plain("Key of the step to run when the rule applies."),
    },
    "Service": {
        MODEL: _plain(
            "A service: an HTTP API with a base URL per environment, optional authorization "
            "and its methods."
        ),
        "key": _plain("Service key, unique among the services: what actions name."),
        "description": _plain("Service description: " + _FREE_TEXT),
        "baseUrls": _plain(
            "List of base URLs, per environment (required): `strategy run --env NAME` uses that "
            "environment's entry, a simulation the first."
        ),
        "authorization": _more(
            "List of authorization configurations, per environment: the request that obtains a "
            "credential before the service's calls in that environment.",
            "The credential is read from the JSON response at `credentialPath` (default "
            "`access_token`) and sent as `Authorization: <credentialType> <credential>` "
            "(default `Bearer`).",
            """
            authorization:
              - environment: sandbox
                url: https://auth.sandbox.example.com/oauth/token
                method: post
                data:
                  client_id: billing
                  client_secret: ${env:BILLING_CLIENT_SECRET}
            """,
        ),
        "credentialPath": _more(
            "Path to the credential in the authorization response's JSON: a dotted path "
            "(default access_token). An authorization entry's own credentialPath wins.",
            example='credentialPath: data.token   # reads {"data": {"token": "..."}}',
        ),
        "credentialType": _plain(
            "Credential type: the word before the credential in the Authorization header "
            "(default Bearer). An authorization entry's own credentialType wins."
        ),
        "methods": _plain("List of methods (required): the service's endpoints that actions call."),
    },
    "BaseUrl": {
        MODEL: _plain("The base URL of a service in one environment."),
        "environment": _plain("Environment name, as given to `strategy run --env`."),
        "url": _plain(
            "URL for the environment: an absolute http(s) URL that method URLs are joined to."
        ),
    },
    "Authorization": {
        MODEL: _plain(
            "The authorization request of a service in one environment, made before its calls "
            "to obtain a credential."
        ),
        "headers": _plain(
            "Optional set of headers of the authorization request; values may be `${env:NAME}`."
        ),
        "params": _plain(
            "Optional set of query parameters of the authorization request; values may be "
            "`${env:NAME}`."
        ),
        "data": _plain(
            "Optional body data: the JSON body of the authorization request; strings may be "
            "`${env:NAME}`."
        ),
        "attributes": _plain(
            "Optional set of attributes: kept as written; strategy sends nothing from it."
        ),
        "environment": _plain(
            "Environment name: the entry applies to the service's calls in that environment."
        ),
        "url": _plain("Authorization URL: an absolute http(s) URL."),
        "method": _plain(
            "API method of the authorization request: get, delete, post, put or patch."
        ),
        "noCache": _plain(
            "If true, a new credential is requested for every call instead of being cached "
            "for the rest of the run."
        ),
        "credentialPath": _plain(
            "Path to the credential in this entry's response (a dotted path); wins over the "
            "service's credentialPath."
        ),
        "credentialType": _plain(
            "Credential type of this entry (the word before the credential in the Authorization "
            "header); wins over the service's credentialType."
        ),
    },
    "Method": {
        MODEL: _plain("A service method: one endpoint, and how its answers are checked."),
        "key": _plain("Method key, unique within its service: what actions name in method."),
        "description": _plain("Method description: " + _FREE_TEXT),
        "url": _more(
            "Method resource URL: a path joined to the environment's base URL, or an absolute "
            "URL used as it is. It may contain `{{ }}` templates.",
            _TEMPLATES,
            "url: /accounts/{{ attributes.accountId }}/charges",
        ),
        "method": _plain("API method: get, delete, post, put or patch."),
        "async": _more(
            "Method is asynchronous: its response only acknowledges the request, and the event "
            "waits ONHOLD until it is resumed with the result.",
            "`strategy event resume SID --data JSON` stores the result, and the next run goes "
            "on with the same attempt: the step's `resumeControllerCallback` (if any) receives "
            "it, and it becomes the step's `afterResumeData`.",
            """
            methods:
              - {key: check, url: /checks, method: post, async: true}
            """,
        ),
        "requestValidation": _more(
            "Request validation schema: a JSON Type Definition schema (RFC 8927), written as a "
            "JSON string, that the request body must match before it is sent.",
            "A body that fails it is a configuration error in `strategy run`: nothing is sent, no "
            "retry is used and the event stays due.",
            """requestValidation: '{"properties": {"amount": {"type": "int32"}}}'""",
        ),
        "responseValidation": _more(
            "Response validation schema: a JSON Type Definition schema (RFC 8927) that the JSON "
            "body of a 2xx response must match for the step to succeed.",
            example="""
            responseValidation:
              properties:
                id: {type: string}
                status: {enum: [paid, pending]}
            """,
        ),
    },
    "Action": {
        MODEL: _plain(
            "An action: a call of one service method, with the headers, query parameters and "
            "body of its request."
        ),
        "headers": _more(
            "Optional set of headers of the request. Strings may contain `{{ }}` templates and "
            "`${env:NAME}`.",
            _TEMPLATES,
            """
            headers:
              X-Account: "{{ attributes.accountId }}"
              X-Api-Key: ${env:PAYMENTS_KEY}
            """,
        ),
        "params": _more(
            "Optional set of query parameters of the request. Strings may contain `{{ }}` "
            "templates.",
            _TEMPLATES,
            """
            params:
              cycle: "{{ instance.cycle }}"
            """,
        ),
        "data": _more(
            "Optional body data: the JSON body of the request. Strings may contain `{{ }}` "
            "templates.",
            _TEMPLATES,
            """
            data:
              amount: "{{ attributes.amount }}"   # stays a number
              checkId: "{{ steps.check.data.id }}"
            """,
        ),
        "attributes": _plain(
            "Optional set of attributes: kept as written; strategy sends nothing from it."
        ),
        "key": _plain("Action key, unique among the actions: what a step's action names."),
        "service": _plain("Key of the service to use."),
        "method": _plain("Key of the service method to use."),
    },
    "EncryptedSettings": {
        MODEL: _plain("Encrypted settings, as the platform keeps them."),
        "iv": _plain("Encryption iv (initialization vector)."),
        "hash": _plain("Encryption hash."),
        "encryptedText": _plain("Encrypted text."),
    },
}


# Keywords that constrain only values of their own type: `{type: T, ...}` or null is exactly
# `{type: [T, "null"], ...}` when nothing else is said.
_OWN_TYPE_ONLY = frozenset({"type", "minimum", "maximum", "items", "additionalProperties"})


def documented(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, pydantic's JSON Schema of StrategyFile, with DOCS written into its root and its
    `$defs` (in place; returned for convenience).

    Optional fields are reshaped for yaml-language-server, which on pydantic's
    `anyOf: [X, {type: null}]` shows the plain description of the field (for X a scalar, list or
    mapping) or the description of X's model (for X a `$ref`) instead of the field's markdown: an
    optional scalar, list or mapping is written `type: [T, "null"]` (the same values), and the
    `$ref` of an optional model carries the field's annotations too.
    """
    _document(schema, DOCS[ROOT])
    for name, definition in schema.get("$defs", {}).items():
        _document(definition, DOCS.get(name, {}))
    return schema


def keywords(doc: Doc) -> dict[str, str]:
    """The JSON Schema annotations of one entry: description, and markdownDescription when the
    entry has more to say."""
    text, extra = doc
    if extra is None:
        return {"description": text}
    return {"description": text, "markdownDescription": f"{text}\n\n{extra}"}


def _document(model: dict[str, Any], docs: dict[str, Doc]) -> None:
    if MODEL in docs:
        # Replaces a class docstring (written for programmers); the annotations go first.
        rest = {key: value for key, value in model.items() if key != "description"}
        model.clear()
        model.update({**keywords(docs[MODEL]), **rest})
    properties = model.get("properties", {})
    for name, prop in properties.items():
        if name in docs:
            # pydantic's title is the field name capitalized ("Retryeventcallback"): an editor
            # would show it as the heading of the hover, above the description.
            prop.pop("title", None)
            notes = keywords(docs[name])
            properties[name] = {**notes, **_for_hover(prop, notes)}


def _for_hover(prop: dict[str, Any], notes: dict[str, str]) -> dict[str, Any]:
    """`prop` reshaped so that an editor shows `notes` (see `documented`); the same values."""
    options = prop.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or options[1] != {"type": "null"}:
        return prop
    first = options[0]
    if "$ref" in first:
        return {**prop, "anyOf": [{**first, **notes}, options[1]]}
    if not isinstance(first.get("type"), str) or not set(first) <= _OWN_TYPE_ONLY:
        return prop  # a keyword that could judge null too: leave the anyOf alone
    rest = {key: value for key, value in prop.items() if key != "anyOf"}
    return {**first, "type": [first["type"], "null"], **rest}
