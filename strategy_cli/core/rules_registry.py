"""Every lint rule id, its default severity and a one-line description.

Rule ids are a public contract (configuration, inline disables, SARIF): never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    severity: Severity
    summary: str
    group: str


_RULES: list[tuple[str, Severity, str, str]] = [
    # source
    ("yaml-syntax", "error", "The file is not well-formed YAML or JSON.", "source"),
    ("yaml-tab", "error", "A tab character where YAML only allows spaces.", "source"),
    (
        "yaml-duplicate-key",
        "error",
        "A mapping repeats a key; the later value would win.",
        "source",
    ),
    ("yaml-recursive-alias", "error", "An alias refers to a node that contains it.", "source"),
    ("file-encoding", "error", "The file is not valid UTF-8.", "source"),
    ("file-unreadable", "error", "A file or folder cannot be read.", "source"),
    ("file-too-large", "error", "A file is larger than --max-file-size; not read.", "source"),
    ("empty-file", "error", "The file holds no document.", "source"),
    ("top-level-type", "error", "The top level of a strategy must be a mapping.", "source"),
    # schema
    ("unknown-key", "error", "A key the strategy format does not define.", "schema"),
    ("missing-key", "error", "A required key is absent.", "schema"),
    ("wrong-type", "error", "A value has the wrong type.", "schema"),
    ("enum-value", "error", "A value is not one of the allowed values.", "schema"),
    ("out-of-range", "error", "A number is outside the bounds the reference allows.", "schema"),
    ("unknown-timezone", "error", "config.timezone is not an IANA time zone name.", "schema"),
    # references
    ("unknown-task", "error", "A task reference names no task.", "references"),
    ("unknown-step", "error", "A step reference names no step of that task.", "references"),
    ("unknown-action", "error", "A step's action names no action.", "references"),
    ("unknown-service", "error", "An action's service names no service.", "references"),
    ("unknown-method", "error", "An action's method is not a method of its service.", "references"),
    ("duplicate-key", "error", "Two definitions share one key.", "references"),
    # graph
    ("unreachable-step", "error", "A step cannot be reached from the task's initialStep.", "graph"),
    ("task-never-succeeds", "error", "No path from initialStep reaches an end.", "graph"),
    ("final-with-next-step", "error", "A final step also names a nextStep.", "graph"),
    ("implicit-end", "warning", "A step has neither final nor nextStep.", "graph"),
    ("missing-if-callback", "error", "A rule with `if: callback` lacks ifCallback.", "graph"),
    ("multiple-on-error", "error", "A step has more than one onError rule.", "graph"),
    # schedule
    ("no-first-cycle-calendar", "error", "No calendar can run cycle 1.", "schedule"),
    ("duplicate-run-on-cycle", "error", "Two calendars claim the same runOnCycle.", "schedule"),
    (
        "leading-up-without-task",
        "warning",
        "A leadingUpTasks item names no task: it creates no event.",
        "schedule",
    ),
    (
        "leading-up-before-previous-cycle",
        "warning",
        "A leading-up task is scheduled further back than the cycle length.",
        "schedule",
    ),
    (
        "retry-strategy-too-long",
        "warning",
        "retryStrategy has more entries than times.",
        "schedule",
    ),
    (
        "retry-callback-outside-retry",
        "warning",
        "retryEventCallback only has effect on a retryAfter delay.",
        "schedule",
    ),
    # services
    (
        "invalid-base-url",
        "error",
        "A base or authorization URL is not absolute http(s).",
        "services",
    ),
    (
        "authorization-without-base-url",
        "error",
        "An environment has authorization but no base URL.",
        "services",
    ),
    (
        "missing-environment",
        "warning",
        "Some services lack an environment others have.",
        "services",
    ),
    # data
    (
        "invalid-jtd-schema",
        "error",
        "A validation schema is not valid JSON Type Definition.",
        "data",
    ),
    ("invalid-from-attribute", "error", "A `from` attribute is not a declared timestamp.", "data"),
    ("template-unknown-root", "error", "A {{ }} reference starts with an unknown root.", "data"),
    (
        "template-unknown-attribute",
        "error",
        "A {{ attributes.X }} reference names no declared attribute.",
        "data",
    ),
    ("template-step-not-before", "error", "A {{ steps.X }} step cannot have run before.", "data"),
    ("template-syntax", "error", "A {{ }} reference is malformed.", "data"),
    # callbacks
    (
        "unknown-callback",
        "warning",
        "A callback name is not defined by the configured callback modules.",
        "callbacks",
    ),
    (
        "unchecked-callbacks",
        "warning",
        "A callback module's names cannot be known without running it.",
        "callbacks",
    ),
]

RULES: dict[str, RuleInfo] = {r[0]: RuleInfo(*r) for r in _RULES}
# Rules about the file itself, not its text: no fixture content triggers them (CLI tests do).
FILE_RULES = frozenset({"file-unreadable", "file-too-large"})


def severity_of(rule: str) -> Severity:
    info = RULES.get(rule)
    return info.severity if info else "error"
