"""`strategy schema`, `strategy init`, `strategy rules`, the pre-commit hook and the samples."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from clikit import run_main
from conftest import ROOT, SAMPLES
from jsonschema import Draft202012Validator

from strategy_cli.cli import authoring
from strategy_cli.core.rules_registry import RULES

COMMITTED_SCHEMA = ROOT / "docs" / "strategy.schema.json"
RULES_DOC = ROOT / "docs" / "rules.md"
SAMPLE_FILES = sorted(SAMPLES.glob("*.yaml"))


run = run_main  # `strategy ARGS` in this process, through the real main()


def lint_json(path: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    proc = run("validate", str(path), "--format", "json", *flags)
    return proc.returncode, json.loads(proc.stdout)


# --- schema -----------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = authoring.schema_document()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    assert schema["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        if "properties" in definition:
            assert definition["additionalProperties"] is False, name


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED_SCHEMA.read_text(encoding="utf-8") == authoring.schema_text(), (
        "docs/strategy.schema.json is out of date: run "
        "`strategy schema --output docs/strategy.schema.json`"
    )


def test_schema_command_prints_the_schema_and_writes_output(tmp_path: Path) -> None:
    result = run("schema")
    assert result.code == 0
    assert result.stdout == authoring.schema_text()
    target = tmp_path / "out" / "strategy.schema.json"
    result = run("schema", "--output", str(target))
    assert result.code == 0
    assert target.read_text(encoding="utf-8") == authoring.schema_text()


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_match_the_schema(sample: Path) -> None:
    assert sample.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../docs/strategy.schema.json\n"
    )
    validator = Draft202012Validator(authoring.schema_document())
    errors = list(validator.iter_errors(yaml.safe_load(sample.read_text(encoding="utf-8"))))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    "path",
    [("colour",), ("settings", "colour"), ("settings", "tasks", 0, "steps", 0, "nextstep")],
)
def test_schema_rejects_unknown_keys(path: tuple[str | int, ...]) -> None:
    data = copy.deepcopy(yaml.safe_load((SAMPLES / "subscription.yaml").read_text()))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = "x"
    assert not Draft202012Validator(authoring.schema_document()).is_valid(data)


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema missing")
def test_check_jsonschema_accepts_samples_and_rejects_unknown_keys(tmp_path: Path) -> None:
    def check(*files: Path) -> subprocess.CompletedProcess[str]:
        cmd = ["check-jsonschema", "--schemafile", str(COMMITTED_SCHEMA), *map(str, files)]
        return subprocess.run(cmd, capture_output=True, text=True)

    ok = check(*SAMPLE_FILES)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "bad.yaml"
    text = (SAMPLES / "subscription.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("  config:\n", "  config:\n    colour: red\n", 1), "utf-8")
    failed = check(bad)
    assert failed.returncode == 1
    assert "colour" in failed.stdout


# --- init -------------------------------------------------------------------------------------


def test_starter_template_is_package_data() -> None:
    from importlib.resources import files

    assert files("strategy_cli").joinpath("templates", authoring.STARTER).is_file()


def test_init_writes_a_clean_starter(tmp_path: Path) -> None:
    proc = run("init", "loan-reminders", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "loan-reminders.yaml"
    assert "loan-reminders.yaml" in proc.stdout
    assert "strategy validate loan-reminders.yaml" in proc.stdout
    assert yaml.safe_load(written.read_text(encoding="utf-8"))["name"] == "loan-reminders"
    code, report = lint_json(written, "--strict")
    assert code == 0
    assert report["findings"] == []
    assert Draft202012Validator(authoring.schema_document()).is_valid(
        yaml.safe_load(written.read_text(encoding="utf-8"))
    )


def test_init_suggests_commands_that_work(tmp_path: Path) -> None:
    import shlex

    proc = run("init", "demo", cwd=tmp_path)
    commands = [
        line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("strategy ")
    ]
    assert any(c.startswith("strategy validate") for c in commands)
    for command in commands:
        step = run(*shlex.split(command)[1:], cwd=tmp_path)
        assert step.returncode == 0, f"{command}: {step.stdout}{step.stderr}"
    assert (tmp_path / authoring.SCHEMA_FILE).is_file()


@pytest.mark.parametrize("name", ["true", "123", "null", "on"])
def test_init_quotes_names_yaml_would_misread(tmp_path: Path, name: str) -> None:
    target = tmp_path / "s.yaml"
    assert run("init", name, "--output", str(target)).returncode == 0
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["name"] == name
    code, report = lint_json(target, "--strict")
    assert (code, report["findings"]) == (0, [])


def test_init_output_option_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "strategies" / "billing.yaml"
    proc = run("init", "billing", "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    assert target.is_file()
    assert "strategy.schema.json" in proc.stdout


def test_init_to_stdout() -> None:
    proc = run("init", "demo", "--output", "-")
    assert proc.returncode == 0
    assert proc.stdout == authoring.starter_text("demo")


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "demo.yaml"
    target.write_text("mine\n", encoding="utf-8")
    proc = run("init", "demo", cwd=tmp_path)
    assert proc.returncode == 2
    assert "already exists" in proc.stderr
    assert "--force" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert run("init", "demo", "--force", cwd=tmp_path).returncode == 0
    assert target.read_text(encoding="utf-8") == authoring.starter_text("demo")


@pytest.mark.parametrize("name", ["bad name", "a/b", "demo.yaml", "ünï", "x;rm"])
def test_init_rejects_names_that_are_not_slugs(tmp_path: Path, name: str) -> None:
    proc = run("init", name, cwd=tmp_path)
    assert proc.returncode == 2
    assert "invalid name" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- rules ------------------------------------------------------------------------------------


def test_rules_json_lists_every_rule() -> None:
    result = run("rules", "--format", "json")
    assert result.code == 0
    rows = json.loads(result.stdout)
    assert [r["rule"] for r in rows] == list(RULES)
    for row in rows:
        assert set(row) == {"rule", "severity", "group", "summary"}
        info = RULES[row["rule"]]
        assert (row["severity"], row["group"], row["summary"]) == (
            info.severity,
            info.group,
            info.summary,
        )


def test_rules_text_shows_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    proc = run("rules")
    assert proc.returncode == 0
    for rule, info in RULES.items():
        assert re.search(
            rf"^{re.escape(rule)}\s+{info.severity}\s+{info.group}\s", proc.stdout, re.M
        )


def test_rules_doc_documents_every_rule() -> None:
    doc = RULES_DOC.read_text(encoding="utf-8")
    for rule, info in RULES.items():
        section = re.search(rf"^### `{re.escape(rule)}`\n\nSeverity: \*\*(\w+)\*\*", doc, re.M)
        assert section, f"docs/rules.md has no section for {rule}"
        assert section.group(1) == info.severity, rule
        assert f"[`{rule}`](#{rule}) | {info.severity} | {info.group} |" in doc, rule


# --- pre-commit, help, samples ----------------------------------------------------------------


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "strategy-validate")
    assert hook["entry"] == "strategy validate"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["yaml", "json"]
    assert hook["require_serial"] is False
    assert hook["description"]


@pytest.mark.parametrize("command", ["schema", "init", "rules"])
def test_help_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.code == 0
    assert "Example: strategy " + command in result.stdout


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_passes_strict_validation(sample: Path) -> None:
    code, report = lint_json(sample, "--strict")
    assert code == 0
    assert report["findings"] == []


def test_new_samples_exist() -> None:
    names = {p.name for p in SAMPLE_FILES}
    assert {"subscription.yaml", "onboarding.yaml"} <= names


def _number_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _number_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _number_paths(v, (*path, i))]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return [path] if number and "instanceValidation" not in path else []


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_the_schema_and_validate_agree_on_every_number(sample: Path) -> None:
    """Issue: `check-jsonschema` accepted `amount: 2.0` that validate rejected. Every number of
    every sample, written as an integral float, a fraction, a string and a boolean."""
    from strategy_cli.core.shapes import errors

    data = yaml.safe_load(sample.read_text(encoding="utf-8"))
    validator = Draft202012Validator(authoring.schema_document())
    paths = _number_paths(data)
    assert paths
    for path in paths:
        for variant in (2.0, 2.5, "2", True, -1.0):
            changed = copy.deepcopy(data)
            node = changed
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = variant
            by_schema = validator.is_valid(changed)
            assert by_schema == (errors(changed) == []), (path, variant)
