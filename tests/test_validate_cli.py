"""`strategy validate` as a user and a CI see it: formats, inputs, exit codes, configuration.

Most runs go through `strategy_cli.cli.app.main` in-process (argv, stdin and the streams
swapped), which is the installed command's whole code path including its error boundary; a few
end-to-end runs use a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from clikit import Result, run_main
from conftest import ROOT, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy_cli.core.rules_registry import FILE_RULES, RULES

SAMPLE = SAMPLES / "loan-collection.yaml"
SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
FIXTURES = ROOT / "tests" / "lint" / "fixtures"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"
JSON_FINDING_KEYS = {"file", "line", "column", "severity", "rule", "message", "path", "hint"}
GITHUB_LINE = re.compile(
    r"^::(error|warning) file=(?P<file>[^,]*),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"title=(?P<title>[\w-]+)::(?P<message>.+)$"
)
TEXT_HEAD = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning) "
    r"\[(?P<rule>[\w-]+)\] (?P<message>.+)$"
)


class Run(Result):
    def json(self, code: int | None = None) -> Any:
        return super().json(code)  # findings come with exit 1, in the same document


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Run:
    """`strategy validate ARGS` in this process: never a traceback, never an internal error."""
    result = Run(**vars(run_main("validate", *args, input=stdin, env=env)))
    assert "Traceback" not in result.text, result
    assert "internal error" not in result.err, result
    return result


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def with_implicit_end(text: str = SAMPLE_TEXT) -> str:
    """The sample with one warning: step `send-reminder` loses `final: true`."""
    old = "        - key: send-reminder\n          action: reminder-mail\n          final: true\n"
    assert old in text
    return text.replace(old, "        - key: send-reminder\n          action: reminder-mail\n")


def implicit_end_line(text: str) -> int:
    return text.splitlines().index("        - key: send-reminder") + 1


UNKNOWN_TASK = SAMPLE_TEXT.replace("    - task: close-account\n", "    - task: close-acount\n")


# ---- formats -----------------------------------------------------------------------------------


def test_text_format_shows_position_source_line_and_caret(tmp_path: Path) -> None:
    path = write(tmp_path / "loan.yaml", UNKNOWN_TASK)
    result = run(str(path))
    assert result.code == 1
    lines = result.out.splitlines()
    heads = [(i, TEXT_HEAD.match(line)) for i, line in enumerate(lines)]
    heads = [(i, m) for i, m in heads if m]
    assert len(heads) == 1, result.out
    i, m = heads[0]
    assert m["file"] == str(path)
    assert (m["severity"], m["rule"]) == ("error", "unknown-task")
    assert "'close-acount' is not a task" in m["message"]
    line, col = int(m["line"]), int(m["col"])
    source = UNKNOWN_TASK.splitlines()[line - 1]
    assert source.strip() == "- task: close-acount"
    assert lines[i + 1] == "  " + source
    caret = lines[i + 2]
    assert caret.strip() == "^"
    assert caret.index("^") == 2 + col - 1
    assert lines[i + 1][caret.index("^") :].startswith("close-acount")
    assert any("hint:" in rest and "close-account" in rest for rest in lines[i + 3 : i + 4])
    assert lines[-1] == "failed: 1 file(s), 1 error(s), 0 warning(s)"


def test_text_format_caret_under_a_tab_indented_json_line(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(yaml.safe_load(UNKNOWN_TASK)))
    path = write(tmp_path / "loan.json", json.dumps(doc, indent="\t"))
    result = run(str(path))
    assert result.code == 1, result
    lines = result.out.splitlines()
    i = next(n for n, line in enumerate(lines) if "[unknown-task]" in line)
    assert lines[i + 2].strip() == "^"
    assert lines[i + 1][lines[i + 2].index("^") :].startswith('"close-acount"')


def test_text_format_summary_when_clean() -> None:
    result = run(str(SAMPLE))
    assert result.code == 0
    assert result.out.strip() == "ok: 1 file(s), 0 error(s), 0 warning(s)"


def test_json_format_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", UNKNOWN_TASK)
    write(tmp_path / "b.yaml", with_implicit_end())
    write(tmp_path / "c.yaml", SAMPLE_TEXT)
    result = run(str(tmp_path), "--format", "json")
    assert result.code == 1
    doc = result.json()
    assert set(doc) == {"summary", "findings"}
    assert doc["summary"] == {"files": 3, "errors": 1, "warnings": 1, "skippedHidden": 0}
    assert len(doc["findings"]) == 2
    for finding in doc["findings"]:
        assert set(finding) == JSON_FINDING_KEYS
        assert isinstance(finding["line"], int) and finding["line"] >= 1
        assert isinstance(finding["column"], int) and finding["column"] >= 1
        assert finding["severity"] in ("error", "warning")
        assert finding["rule"] in RULES
        assert isinstance(finding["message"], str) and finding["message"]
        assert isinstance(finding["path"], str)
        assert finding["hint"] is None or isinstance(finding["hint"], str)
    by_rule = {f["rule"]: f for f in doc["findings"]}
    assert by_rule["unknown-task"]["file"] == str(tmp_path / "a.yaml")
    assert by_rule["unknown-task"]["path"] == "settings.onCancelTasks[0].task"
    assert by_rule["implicit-end"]["severity"] == "warning"
    assert by_rule["implicit-end"]["line"] == implicit_end_line(with_implicit_end())


def test_github_format(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", UNKNOWN_TASK)
    write(tmp_path / "b.yaml", with_implicit_end())
    result = run(str(tmp_path), "--format", "github")
    assert result.code == 1
    lines = result.out.splitlines()
    assert len(lines) == 2
    matches = [GITHUB_LINE.match(line) for line in lines]
    assert all(matches), lines
    error, warning = sorted(matches, key=lambda m: m.group(1))
    assert error.group(1) == "error" and warning.group(1) == "warning"
    assert error["file"] == str(tmp_path / "a.yaml")
    assert error["title"] == "unknown-task"
    assert "'close-acount' is not a task" in error["message"]
    assert warning["title"] == "implicit-end"
    assert int(warning["line"]) == implicit_end_line(with_implicit_end())
    assert int(warning["col"]) >= 1


def test_github_format_escapes_properties_and_data(tmp_path: Path) -> None:
    path = write(tmp_path / "a,b:c.yaml", "name: a\nname: b\n")
    result = run(str(path), "--format", "github")
    assert result.code == 1
    for line in result.out.splitlines():
        m = GITHUB_LINE.match(line)
        assert m, line
        assert m["file"].endswith("a%2Cb%3Ac.yaml")
        assert "\n" not in m["message"]


def test_github_format_is_chosen_on_github_actions(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", UNKNOWN_TASK)
    result = run(str(path), env={"GITHUB_ACTIONS": "true"})
    assert result.code == 1
    assert result.out.startswith("::error file=")
    # an explicit --format wins
    result = run(str(path), "--format", "text", env={"GITHUB_ACTIONS": "true"})
    assert TEXT_HEAD.match(result.out.splitlines()[1]), result.out
    # and only "true" selects it
    assert not run(str(path), env={"GITHUB_ACTIONS": "false"}).out.startswith("::")


def test_github_format_prints_nothing_when_clean() -> None:
    result = run(str(SAMPLE), "--format", "github")
    assert (result.code, result.out) == (0, "")


# ---- SARIF against the official schema -----------------------------------------------------


def _sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker()
    uri_chars = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")

    @checker.checks("uri-reference")
    def _uri_reference(value: object) -> bool:
        return not isinstance(value, str) or bool(uri_chars.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(
            uri_chars.match(value) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value)
        )

    return cls(schema, format_checker=checker)


def assert_valid_sarif(document: Any) -> None:
    errors = sorted(_sarif_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_the_sarif_schema_is_the_official_one() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"run", "result", "location", "region", "reportingDescriptor"} <= set(
        schema["definitions"]
    )
    # the validator does reject what is not SARIF
    assert list(_sarif_validator().iter_errors({"version": "2.1.0", "runs": [{}]}))


def test_sarif_output_of_every_rule_is_valid(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    write(tmp_path / "fixtures" / "with space" / "\u00e9t\u00e9 #1.yaml", UNKNOWN_TASK)
    sarif = run(str(tmp_path / "fixtures"), "--format", "sarif")
    assert sarif.code == 1
    document = sarif.json()
    assert_valid_sarif(document)

    as_json = run(str(tmp_path / "fixtures"), "--format", "json").json()
    results = document["runs"][0]["results"]
    assert len(results) == len(as_json["findings"])
    # every rule fires in some fixture (the file's own problems in test_validate_limits)
    assert {r["ruleId"] for r in results} == set(RULES) - FILE_RULES
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= set(RULES)
    for result, finding in zip(results, as_json["findings"], strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["rule"]
        assert result["level"] == finding["severity"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding["line"], finding["column"])
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert any(uri.endswith("with%20space/%C3%A9t%C3%A9%20%231.yaml") for uri in uris), uris


def test_sarif_output_is_valid_when_clean_and_from_stdin() -> None:
    clean = run(str(SAMPLE), "--format", "sarif")
    assert clean.code == 0
    assert_valid_sarif(clean.json())
    assert clean.json()["runs"][0]["results"] == []
    piped = run("-", "--format", "sarif", stdin=b"name: [\n")
    assert piped.code == 1
    assert_valid_sarif(piped.json())


# ---- inputs ------------------------------------------------------------------------------------


def test_stdin_with_a_filename(tmp_path: Path) -> None:
    result = run("-", "--stdin-filename", "plans/loan.yaml", "--format", "json", stdin=b"- a\n")
    assert result.code == 1
    (finding,) = result.json()["findings"]
    assert (finding["file"], finding["rule"], finding["line"]) == (
        "plans/loan.yaml",
        "top-level-type",
        1,
    )
    assert result.json()["summary"]["files"] == 1


def test_stdin_without_a_filename_and_clean_stdin() -> None:
    result = run("-", "--format", "json", stdin=UNKNOWN_TASK.encode())
    assert result.code == 1
    assert {f["file"] for f in result.json()["findings"]} == {"<stdin>"}
    assert run("-", stdin=SAMPLE_TEXT.encode()).code == 0


def test_stdin_json_by_filename() -> None:
    doc = json.loads(json.dumps(yaml.safe_load(UNKNOWN_TASK)))
    text = json.dumps(doc, indent="\t").encode()
    result = run("-", "--stdin-filename", "loan.json", "--format", "json", stdin=text)
    assert result.code == 1
    (finding,) = result.json()["findings"]
    assert finding["file"] == "loan.json"
    line = text.decode().splitlines()[finding["line"] - 1]
    assert line[finding["column"] - 1 :].startswith('"close-acount"')


def test_stdin_combined_with_files(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", UNKNOWN_TASK)
    result = run(str(path), "-", "--format", "json", stdin=b"")
    assert result.json()["summary"]["files"] == 2
    assert {f["rule"] for f in result.json()["findings"]} == {"unknown-task", "empty-file"}


def test_stdin_twice_is_a_usage_error() -> None:
    result = run("-", "-", stdin=b"")
    assert result.code == 2
    assert "once" in result.err


def test_directories_are_searched_recursively(tmp_path: Path) -> None:
    write(tmp_path / "top.yaml", SAMPLE_TEXT)
    write(tmp_path / "a" / "b" / "deep.yml", UNKNOWN_TASK)
    write(tmp_path / "a" / "c.json", json.dumps(yaml.safe_load(with_implicit_end())))
    write(tmp_path / "a" / "notes.txt", "not: [a strategy")
    write(tmp_path / ".hidden" / "x.yaml", "- ignored")
    write(tmp_path / "a" / ".draft.yaml", "- ignored")
    result = run(str(tmp_path), "--format", "json")
    doc = result.json()
    assert doc["summary"]["files"] == 3
    assert doc["summary"]["skippedHidden"] == 2  # .hidden/ and a/.draft.yaml, counted
    files = [f["file"] for f in doc["findings"]]
    assert files == [str(tmp_path / "a" / "b" / "deep.yml"), str(tmp_path / "a" / "c.json")]
    assert result.code == 1


def test_files_and_folders_mixed_in_one_run(tmp_path: Path) -> None:
    one = write(tmp_path / "one" / "x.yaml", UNKNOWN_TASK)
    write(tmp_path / "two" / "y.yaml", "")
    doc = run(str(one), str(tmp_path / "two"), "--format", "json").json()
    assert doc["summary"] == {"files": 2, "errors": 2, "warnings": 0, "skippedHidden": 0}


SOURCE_PROBLEMS = {
    "duplicate.yaml": (b"name: a\nname: b\n", "yaml-duplicate-key", 2, 1),
    "tab.yaml": (b"name: a\nsettings:\n\tconfig: {}\n", "yaml-tab", 3, 1),
    "syntax.yaml": (b"name: a\nsettings: {config: [}\n", "yaml-syntax", 2, 21),
    "latin1.yaml": (b"name: caf\xe9\n", "file-encoding", 1, 10),
    "empty.yaml": (b"", "empty-file", 1, 1),
    "list.yaml": (b"- name: a\n", "top-level-type", 1, 1),
    "alias.yaml": (b"name: a\nsettings: &s\n  config: *s\n", "yaml-recursive-alias", 3, 11),
}


def test_source_problems_are_findings_and_do_not_stop_the_run(tmp_path: Path) -> None:
    for name, (raw, *_) in SOURCE_PROBLEMS.items():
        write(tmp_path / name, raw)
    write(tmp_path / "zz-clean.yaml", SAMPLE_TEXT)
    write(tmp_path / "zz-unknown-task.yaml", UNKNOWN_TASK)
    result = run(str(tmp_path), "--format", "json")
    assert result.code == 1
    doc = result.json()
    assert doc["summary"]["files"] == len(SOURCE_PROBLEMS) + 2
    found = {(Path(f["file"]).name, f["rule"], f["line"], f["column"]) for f in doc["findings"]}
    for name, (_, rule, line, column) in SOURCE_PROBLEMS.items():
        assert (name, rule, line, column) in found, (name, sorted(found))
    assert any(f[0] == "zz-unknown-task.yaml" and f[1] == "unknown-task" for f in found)
    assert not any(f[0] == "zz-clean.yaml" for f in found)
    # the same files, as text: one header per file, no traceback
    text = run(str(tmp_path))
    assert text.code == 1
    for name in SOURCE_PROBLEMS:
        assert str(tmp_path / name) in text.out


def test_an_unreadable_file_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.yaml", UNKNOWN_TASK)
    locked = write(tmp_path / "b-locked.yaml", SAMPLE_TEXT)
    write(tmp_path / "c.yaml", with_implicit_end())
    real_open = Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == locked.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    result = run(str(tmp_path), "--format", "json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    assert {"unknown-task", "implicit-end"} <= {f["rule"] for f in findings}
    [problem] = [f for f in findings if f["file"] == str(locked)]
    assert (problem["rule"], problem["line"], problem["column"]) == ("file-unreadable", 1, 1)
    assert "Permission denied" in problem["message"]


# ---- exit codes --------------------------------------------------------------------------------


def test_exit_codes_and_strict(tmp_path: Path) -> None:
    clean = str(SAMPLE)
    warning = str(write(tmp_path / "warning.yaml", with_implicit_end()))
    error = str(write(tmp_path / "error.yaml", UNKNOWN_TASK))
    assert run(clean).code == 0
    assert run(clean, "--strict").code == 0
    assert run(warning).code == 0
    assert run(warning, "--strict").code == 1
    assert run(error).code == 1
    assert run(error, "--strict").code == 1
    assert run(clean, warning, error).code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["no/such/file.yaml"],
        ["--format", "xml", "sample-strategies"],
        ["--no-such-option", "sample-strategies"],
        [],
    ],
    ids=["missing-path", "bad-format", "bad-option", "no-paths"],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.code == 2
    assert result.err.strip()
    assert result.out == ""


def test_a_folder_without_strategies_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "readme.txt", "nothing here")
    result = run(str(tmp_path))
    assert result.code == 2
    assert "no strategy files found" in result.err


def test_one_missing_path_among_good_ones_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(SAMPLE), str(tmp_path / "gone.yaml"))
    assert result.code == 2
    assert "gone.yaml" in result.err


# ---- configuration -----------------------------------------------------------------------------


def test_strategy_toml_turns_a_rule_off(tmp_path: Path) -> None:
    path = write(tmp_path / "loan.yaml", with_implicit_end())
    assert run(str(path), "--strict").code == 1
    write(tmp_path / ".strategy.toml", '[rules]\nimplicit-end = "off"\n')
    result = run(str(path), "--strict", "--format", "json")
    assert result.code == 0
    assert result.json()["findings"] == []


def test_strategy_toml_raises_a_warning_to_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "loan.yaml", with_implicit_end())
    write(tmp_path / ".strategy.toml", '[rules]\nimplicit-end = "error"\n')
    result = run(str(path), "--format", "json")
    assert result.code == 1
    assert [f["severity"] for f in result.json()["findings"]] == ["error"]
    sarif = run(str(path), "--format", "sarif").json()
    assert sarif["runs"][0]["results"][0]["level"] == "error"


def test_strategy_toml_lowers_an_error_to_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "loan.yaml", UNKNOWN_TASK)
    write(tmp_path / ".strategy.toml", '[rules]\nunknown-task = "warning"\n')
    assert run(str(path)).code == 0
    assert run(str(path), "--strict").code == 1


def test_pyproject_is_found_upward_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "strategies" / "billing" / "loan.yaml", with_implicit_end())
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.strategy.rules]\nimplicit-end = "off"\n',
    )
    result = run(str(path), "--strict", "--format", "json")
    assert (result.code, result.json()["findings"]) == (0, [])


def test_a_pyproject_without_a_strategy_section_does_not_stop_the_search(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "loan.yaml", with_implicit_end())
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "inner"\n')
    write(tmp_path / "pyproject.toml", '[tool.strategy.rules]\nimplicit-end = "off"\n')
    assert run(str(path), "--strict").code == 0


def test_the_nearest_configuration_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.strategy.rules]\nimplicit-end = "error"\n')
    inner = write(tmp_path / "team" / "loan.yaml", with_implicit_end())
    outer = write(tmp_path / "loan.yaml", with_implicit_end())
    write(tmp_path / "team" / ".strategy.toml", '[rules]\nimplicit-end = "off"\n')
    assert run(str(inner), "--strict").code == 0
    assert run(str(outer)).code == 1
    # one run, each file with its own configuration
    doc = run(str(tmp_path), "--format", "json").json()
    assert [(Path(f["file"]).parent.name, f["severity"]) for f in doc["findings"]] == [
        (tmp_path.name, "error")
    ]


def test_configuration_applies_to_stdin_through_its_filename(tmp_path: Path) -> None:
    write(tmp_path / ".strategy.toml", '[rules]\nimplicit-end = "off"\n')
    text = with_implicit_end().encode()
    name = str(tmp_path / "loan.yaml")
    assert run("-", "--stdin-filename", name, "--strict", stdin=text).code == 0
    assert run("-", "--strict", stdin=text).code == 1


@pytest.mark.parametrize(
    "toml",
    [
        '[rules]\nno-such-rule = "off"\n',
        '[rules]\nimplicit-end = "silent"\n',
        "[rules\n",
        'rules = "off"\n',
    ],
    ids=["unknown-rule", "bad-setting", "bad-toml", "rules-not-a-table"],
)
def test_a_broken_configuration_is_a_usage_error(tmp_path: Path, toml: str) -> None:
    path = write(tmp_path / "loan.yaml", SAMPLE_TEXT)
    write(tmp_path / ".strategy.toml", toml)
    result = run(str(path))
    assert result.code == 2
    assert ".strategy.toml" in result.err


# ---- inline disables ---------------------------------------------------------------------------


def test_inline_disable_on_the_findings_line(tmp_path: Path) -> None:
    text = with_implicit_end()
    marked = text.replace(
        "        - key: send-reminder\n",
        "        - key: send-reminder  # strategy: disable=implicit-end\n",
    )
    assert run(str(write(tmp_path / "a.yaml", marked)), "--strict").code == 0


def test_inline_disable_lists_several_rules_and_tolerates_spacing(tmp_path: Path) -> None:
    text = with_implicit_end(UNKNOWN_TASK).replace(
        "        - key: send-reminder\n",
        "        - key: send-reminder  #strategy:disable=unknown-task, implicit-end\n",
    )
    result = run(str(write(tmp_path / "a.yaml", text)), "--format", "json")
    # only the rules on that line are silenced: the unknown task is on another line
    assert [f["rule"] for f in result.json()["findings"]] == ["unknown-task"]
    text = text.replace(
        "    - task: close-acount\n", "    - task: close-acount  # strategy: disable=unknown-task\n"
    )
    result = run(str(write(tmp_path / "b.yaml", text)), "--strict", "--format", "json")
    assert (result.code, result.json()["findings"]) == (0, [])


def test_inline_disable_of_another_rule_or_line_does_nothing(tmp_path: Path) -> None:
    text = with_implicit_end().replace(
        "          action: reminder-mail\n      initialStep: send-reminder\n",
        "          action: reminder-mail  # strategy: disable=implicit-end\n"
        "      initialStep: send-reminder\n",
    )
    assert "disable=implicit-end" in text
    assert run(str(write(tmp_path / "a.yaml", text)), "--strict").code == 1
    other = with_implicit_end().replace(
        "        - key: send-reminder\n",
        "        - key: send-reminder  # strategy: disable=unknown-task\n",
    )
    assert run(str(write(tmp_path / "b.yaml", other)), "--strict").code == 1


# ---- every rule fixture through the command ---------------------------------------------------


def _markers(raw: bytes) -> set[tuple[str, int]]:
    out = set()
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        m = re.search(r"#\s*expect:\s*([\w\-, ]+)", line)
        if m:
            out |= {(rule.strip(), number) for rule in m.group(1).split(",") if rule.strip()}
    return out


def test_rule_fixtures_through_the_command(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    result = run(str(tmp_path / "fixtures"), "--format", "json")
    assert result.code == 1
    doc = result.json()
    with_fixtures = set(RULES) - FILE_RULES  # the file's own problems: see test_validate_limits
    assert doc["summary"]["files"] == 2 * len(with_fixtures)
    got: dict[str, set[tuple[str, int]]] = {}
    for f in doc["findings"]:
        got.setdefault(f["file"], set()).add((f["rule"], f["line"]))
    for rule in with_fixtures:
        bad = tmp_path / "fixtures" / rule / "bad.yaml"
        assert got.get(str(bad)) == _markers(bad.read_bytes()), rule
        assert str(tmp_path / "fixtures" / rule / "good.yaml") not in got


# ---- never a traceback, through the command ----------------------------------------------------

cli_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@cli_settings
@given(st.text(max_size=200))
def test_arbitrary_stdin_through_the_command(text: str) -> None:
    result = run("-", "--format", "json", stdin=text.encode("utf-8", errors="surrogatepass"))
    assert result.code in (1, 2)
    if result.code == 1:
        doc = result.json()
        assert doc["findings"] and doc["summary"]["errors"] >= 1
        for f in doc["findings"]:
            assert f["line"] >= 1 and f["column"] >= 1 and f["rule"] in RULES
    else:
        assert result.err.strip()


@cli_settings
@given(st.binary(max_size=200))
def test_arbitrary_bytes_through_the_command(raw: bytes) -> None:
    result = run("-", "--stdin-filename", "x.yaml", stdin=raw)
    assert result.code == 1
    assert TEXT_HEAD.match(result.out.splitlines()[1]), result.out


def _trees() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    keys = st.sampled_from(["name", "settings", "tasks", "steps", "key", "config"]) | st.text(
        max_size=5
    )
    return st.recursive(
        leaves,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=4),
        max_leaves=20,
    )


@cli_settings
@given(_trees(), st.sampled_from(["json", "sarif", "github", "text"]))
def test_arbitrary_yaml_trees_through_the_command(tree: Any, fmt: str) -> None:
    result = run("-", "--format", fmt, stdin=yaml.safe_dump(tree).encode())
    assert result.code == 1
    assert result.out.strip()
    if fmt == "sarif":
        assert_valid_sarif(result.json())


# ---- end to end --------------------------------------------------------------------------------


def _subprocess(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(
        [*args], input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_python_dash_m_end_to_end(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", UNKNOWN_TASK)
    proc = _subprocess(sys.executable, "-m", "strategy_cli", "validate", str(path), "-f", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["rule"] == "unknown-task"
    proc = _subprocess(
        sys.executable, "-m", "strategy_cli", "validate", "-", "--stdin-filename", "s.yaml",
        stdin="\t- broken",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "s.yaml:1:1: error [yaml-tab]" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_installed_command_end_to_end() -> None:
    exe = shutil.which("strategy", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the `strategy` script is not installed next to this Python")
    proc = _subprocess(exe, "validate", str(SAMPLES), "--format", "sarif")
    assert proc.returncode == 0, proc.stderr
    assert_valid_sarif(json.loads(proc.stdout))
