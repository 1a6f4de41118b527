"""The step-graph rules (core/lint/graph.py) on the shapes no fixture shows: a final step that
also names a real next step, an explicit `nextStep: null`, duplicate step keys, loops, rules."""

from __future__ import annotations

import textwrap

from lintkit import lint_text

from strategy_cli.core.findings import Finding

HEAD = """\
name: invoice-reminder
settings:
  schedule:
    calendars:
      - {key: weekly, scheduleAfter: {unit: days, amount: 7}, task: remind}
  services:
    - key: mail
      baseUrls: [{environment: production, url: "https://mail.example.com"}]
      methods: [{key: send, url: /messages, method: post}]
  actions:
    - {key: send-mail, service: mail, method: send}
  tasks:
    - key: remind
      initialStep: {start}
      steps:
"""


def lint_steps(steps: str, start: str = "a") -> list[tuple[str, int, str]]:
    """Findings of a one-task strategy with these steps (YAML list items), as (rule, line,
    message), the steps' first line being line 16."""
    text = HEAD.replace("{start}", start) + textwrap.indent(textwrap.dedent(steps), " " * 8)
    return [(f.rule, f.line, f.message) for f in lint_text(text) if _graph_or_key(f)]


def _graph_or_key(f: Finding) -> bool:
    return f.rule in {
        "final-with-next-step",
        "implicit-end",
        "task-never-succeeds",
        "unreachable-step",
        "duplicate-key",
        "multiple-on-error",
        "missing-if-callback",
    }


def test_a_final_step_naming_an_existing_next_step_is_reported_and_still_ends_the_task() -> None:
    found = lint_steps(
        """\
        - {key: a, action: send-mail, final: true, nextStep: b}
        - {key: b, action: send-mail, nextStep: a}
        """
    )
    # `a` is final, so the loop a -> b -> a can end: not "task-never-succeeds".
    assert found == [
        ("final-with-next-step", 16, "step 'a' is final but also names nextStep 'b'"),
    ]


def test_final_false_is_not_final() -> None:
    found = lint_steps(
        """\
        - {key: a, action: send-mail, final: false, nextStep: b}
        - {key: b, action: send-mail, nextStep: a}
        """
    )
    assert [rule for rule, _, _ in found] == ["task-never-succeeds"]


def test_an_explicit_null_next_step_is_no_next_step() -> None:
    found = lint_steps(
        """\
        - {key: a, action: send-mail, nextStep: null}
        - {key: b, action: send-mail, final: true, nextStep: null}
        """,
    )
    assert found == [
        ("implicit-end", 16, "step 'a' has neither `final` nor `nextStep`: the task ends after it"),
        ("unreachable-step", 17, "step 'b' cannot be reached from initialStep 'a'"),
    ]


def test_a_next_step_naming_no_step_ends_the_task() -> None:
    # (the unknown name is reference-checked elsewhere; the graph treats it as an end)
    found = lint_steps("- {key: a, action: send-mail, nextStep: nowhere}\n")
    assert [r for r, _, _ in found if r != "unknown-step"] == []


def test_duplicate_step_keys_the_first_one_counts() -> None:
    found = lint_steps(
        """\
        - {key: a, action: send-mail, nextStep: b}
        - {key: b, action: send-mail, final: true}
        - {key: a, action: send-mail, nextStep: c}
        - {key: c, action: send-mail, final: true}
        """
    )
    # The second `a` is the duplicate; the graph follows the first `a`, so `c` is unreachable
    # and reported at its own line, and `b` (reached from the first `a`) is not.
    assert found == [
        ("duplicate-key", 18, "step key 'a' is already used (line 16)"),
        ("unreachable-step", 19, "step 'c' cannot be reached from initialStep 'a'"),
    ]


def test_reachability_follows_next_steps_and_rules_transitively() -> None:
    found = lint_steps(
        """\
        - key: a
          action: send-mail
          nextStep: b
          nextStepRules: [not-a-rule, {if: onError, nextStep: e}]
        - {key: b, action: send-mail, nextStep: c}
        - {key: c, action: send-mail, final: true}
        - {key: e, action: send-mail, final: true}
        - {key: lost, action: send-mail, final: true}
        """
    )
    assert found == [("unreachable-step", 23, "step 'lost' cannot be reached from initialStep 'a'")]


def test_a_loop_through_rules_only_can_never_succeed() -> None:
    found = lint_steps(
        """\
        - key: a
          action: send-mail
          nextStep: b
        - key: b
          action: send-mail
          nextStep: a
          nextStepRules: [{if: onError, nextStep: a}, {if: onError, nextStep: b}]
        """
    )
    assert [(r, line) for r, line, _ in found] == [
        ("task-never-succeeds", 14),
        ("multiple-on-error", 22),
    ]


def test_an_initial_step_naming_no_step_reports_no_graph_finding() -> None:
    found = lint_steps("- {key: a, action: send-mail, final: true}\n", start="missing")
    assert [r for r, _, _ in found] == []


def test_a_callback_rule_needs_its_callback_name() -> None:
    found = lint_steps(
        """\
        - key: a
          action: send-mail
          final: true
          nextStepRules: [{if: callback, ifCallback: 7}, {if: callback, ifCallback: ok}]
        """
    )
    assert [(r, line) for r, line, _ in found] == [("missing-if-callback", 19)]


def test_nextstep_rules_that_are_not_a_list_are_ignored_by_the_graph() -> None:
    found = lint_steps(
        """\
        - {key: a, action: send-mail, nextStepRules: {if: onError}, final: true}
        - {key: 7, action: send-mail, final: true}
        """
    )
    assert [r for r, _, _ in found] == []
