"""Output that file content, the store, the environment and servers cannot forge (issue 11, §4).

Every human-output path runs through the real `main()` with hostile names, keys and messages:
rich markup, emoji codes, escape sequences (OSC title and hyperlink, screen clear), a newline
that would start a forged line, a bidi override. Each must come out literally: no ESC byte (or
other control) on stdout or stderr, the text shown with its controls escaped, never a crash for
the whole store; JSON output decodes to the exact raw value.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from remote_servers import (
    INSTANCE_SID,
    LOOPBACK,
    cli_env,
    free_port,
    platform_emulator,
    platform_events,
    run_cli,
    serving,
    wait_for_port,
)
from servers import PAST, RecordingServer, Reply, Result, RunKit, strategy_doc

from strategy_cli.core.literal import json_escaped, literal

HOSTILE = {
    "markup-close": "[/]x",
    "markup-style": "[bold red]x",
    "emoji-code": "a:100:7",
    "osc-title": "\x1b]0;title\x07",
    "osc-hyperlink": "\x1b]8;;http://evil\x1b\\",
    "csi-clear": "\x1b[2J",
    "newline": "a\nforged line",
    "bidi-override": "\u202eabc",
}
# Characters that must never reach a terminal raw: C0 but newline, DEL, C1, bidi and separators.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e]")


def _ids() -> list[Any]:
    return [pytest.param(value, id=key) for key, value in HOSTILE.items()]


def assert_literal(result: Result, raw: str, code: int = 0, *, shown: bool = True) -> None:
    """Exit `code`, no traceback, no control character, no markup or emoji applied, no forged
    line; with `shown`, the value appears in its escaped form."""
    text = result.out + result.err
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in text and "internal error" not in text, text
    assert not RAW_CONTROL.search(text), repr(text)
    assert "💯" not in text, text
    assert not any(line.startswith("forged line") for line in text.splitlines()), text
    if shown:
        assert literal(raw) in text, (literal(raw), text)


def json_of(result: Result) -> Any:
    assert result.code == 0, result.text
    assert not RAW_CONTROL.search(result.out), repr(result.out)
    return json.loads(result.out)


def strings(value: Any) -> list[str]:
    """Every string in a decoded JSON document, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.fixture
def kit(tmp_path: Path) -> RunKit:
    return RunKit(tmp_path)


@pytest.fixture
def server() -> Any:
    with RecordingServer() as s:
        yield s


def hostile_doc(raw: str, base_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    """A runnable strategy whose name, task key, service key and request body carry `raw`."""
    doc = strategy_doc(f"s{raw}", base_url)
    settings = doc["settings"]
    settings["schedule"]["calendars"][0]["task"] = f"t{raw}"
    settings["tasks"][0]["key"] = f"t{raw}"
    settings["services"][0]["key"] = f"api{raw}"
    settings["actions"][0]["service"] = f"api{raw}"
    settings["actions"][0]["data"] = {"note": raw, "id": "{{ attributes.id }}"}
    return doc


# --- the helper itself --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", _ids())
def test_literal_escapes_what_a_terminal_would_act_on(raw: str) -> None:
    shown = literal(raw)
    assert not RAW_CONTROL.search(shown) and "\n" not in shown
    assert literal(shown) == shown  # what is already safe is left alone


def test_literal_keeps_ordinary_text_and_multiline_blocks() -> None:
    assert literal("C:\\dir [b]é ✓") == "C:\\dir [b]é ✓"
    assert literal("a\tb\nc\x1b") == "a\\tb\\nc\\x1b"
    assert literal("a\tb\nc\x1b\r", multiline=True) == "a\tb\nc\\x1b\\r"
    assert literal("\udcff\u2028\x9b") == "\\udcff\\u2028\\x9b"


def test_json_escaped_is_the_same_json() -> None:
    value = {"k\u202e": ["\x9b\x1b\n\udcff", "\u2028é"]}
    text = json_escaped(json.dumps(value, ensure_ascii=False, indent=2))
    assert not RAW_CONTROL.search(text)
    assert json.loads(text) == value


# Text with markup, emoji codes and every kind of control character, often.
_hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from(["[", "]", "/", ":", "\\", "\x1b", "\n", "\x9b", "\u202e", "\u2028"]),
    )
) | st.builds("".join, st.lists(st.sampled_from([*HOSTILE.values(), "x", ":smile:", "[b]"])))


@given(_hostile_text)
@settings(max_examples=300, deadline=None)
def test_literal_properties(text: str) -> None:
    shown = literal(text)
    assert not RAW_CONTROL.search(shown) and "\n" not in shown
    assert literal(shown) == shown
    block = literal(text, multiline=True)  # a block keeps its lines (and tabs), nothing else
    assert block.count("\n") == text.count("\n")
    assert not RAW_CONTROL.search(block.replace("\t", ""))
    dumped = json_escaped(json.dumps({text: [text]}, ensure_ascii=False, indent=2))
    assert json.loads(dumped) == {text: [text]}
    assert not RAW_CONTROL.search(dumped.replace("\n", ""))


@given(_hostile_text)
@settings(max_examples=200, deadline=None)
def test_a_console_prints_shown_text_exactly(text: str) -> None:
    """Through the tool's own console: no markup, no emoji, nothing but the escaped text."""
    import io

    from strategy_cli.cli import console

    sink = io.StringIO()
    printer = console._make(sink)
    printer.print(console.line(("error:", "bold"), " ", text), soft_wrap=True)
    assert sink.getvalue() == f"error: {literal(text)}\n"


@given(name=_hostile_text.filter(lambda t: t.strip() != ""), task=_hostile_text)
@settings(max_examples=25, deadline=None)
def test_any_name_and_task_print_literally(name: str, task: str) -> None:
    """Whatever a stored name or task key holds, the store's commands show it literally."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        kit = RunKit(Path(folder))
        doc = hostile_doc("")
        doc["name"] = name
        doc["settings"]["schedule"]["calendars"][0]["task"] = task
        doc["settings"]["tasks"][0]["key"] = task
        path = kit.folder / "s.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        db = str(kit.db)
        applied = kit.cli("apply", str(path), "--db", db)
        if applied.code != 0:  # a name or key validate rejects: one error line, literally
            assert_literal(applied, "", applied.code, shown=False)
            return
        assert_literal(applied, name)
        assert_literal(kit.cli("list", "--db", db), "", shown=False)
        assert json_of(kit.cli("list", "--db", db, "-f", "json"))[0]["name"] == name
        created = kit.cli("instance", "create", name, "-a", '{"id": "x"}', "--db", db)
        if created.code != 0:  # a name that reads as a file name ("x.json"): refused literally
            assert_literal(created, "", created.code, shown=False)
            return
        for args in (("instance", "list"), ("instance", "tasks", created.out.strip())):
            assert_literal(kit.cli(*args, "--db", db), "", shown=False)
        assert_literal(kit.cli("run", "--dry-run", "--db", db), literal(task)[:20])


def test_consoles_read_no_emoji_codes() -> None:
    """Defence in depth: even a plain string printed without markup keeps its ":100:"."""
    import io

    from strategy_cli.cli import console

    sink = io.StringIO()
    console._make(sink).print("file.yaml:100:7 :smile:", markup=False)
    assert sink.getvalue() == "file.yaml:100:7 :smile:\n"


def test_no_formatted_string_reaches_rich_unescaped() -> None:
    """rich reads a str as markup (and emoji codes): an f-string passed straight to print() or
    add_row() is how user text got interpreted. Every one goes through shown() or line()."""
    import ast

    package = Path(__file__).resolve().parent.parent / "strategy_cli"
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in ("print", "add_row", "add_column", "Table"):
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.JoinedStr):
                    found.append(f"{path.name}:{arg.lineno}: {ast.unparse(arg)}")
    assert found == [], "\n".join(found)


# --- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", _ids())
def test_validate_findings_in_every_format(kit: RunKit, raw: str) -> None:
    name = raw.replace("/", "_")
    path = kit.folder / f"f{name}.yaml"
    doc = strategy_doc("lint", "http://127.0.0.1:9")
    doc["settings"]["schedule"]["calendars"][0]["task"] = f"t{raw}"  # an unknown task
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    text = kit.cli("validate", str(path))
    assert_literal(text, f"t{raw}", 1)
    assert literal(str(path)) in text.out
    github = kit.cli("validate", str(path), "--format", "github")
    assert_literal(github, raw, 1, shown=False)
    for fmt in ("json", "sarif"):
        out = kit.cli("validate", str(path), "--format", fmt)
        assert out.code == 1 and not RAW_CONTROL.search(out.out)
        assert any(f"t{raw}" in value for value in strings(json.loads(out.out)))


def test_an_emoji_code_in_a_position_stays_a_position(kit: RunKit) -> None:
    path = kit.folder / "file.yaml"
    path.write_text("#\n" * 99 + "name: [1]\n", encoding="utf-8")  # a finding at line 100
    result = kit.cli("validate", str(path))
    assert result.code == 1 and "💯" not in result.out
    assert "file.yaml:100:1: error" in result.out, result.out


@pytest.mark.parametrize("raw", _ids())
def test_unreadable_file_error_names_it_literally(kit: RunKit, raw: str) -> None:
    missing = kit.folder / f"gone{raw.replace('/', '_')}.yaml"
    assert_literal(kit.cli("validate", str(missing)), "", 2, shown=False)


# --- the store: apply, list, show, instances, simulate, run -------------------------------------


@pytest.mark.parametrize("raw", _ids())
def test_store_commands_show_hostile_names(kit: RunKit, raw: str) -> None:
    db = str(kit.db)
    path = kit.write(hostile_doc(raw))
    assert_literal(kit.cli("apply", str(path), "--db", db), f"s{raw}")
    assert_literal(kit.cli("list", "--db", db), f"s{raw}")
    assert json_of(kit.cli("list", "--db", db, "--format", "json"))[0]["name"] == f"s{raw}"
    assert_literal(kit.cli("show", f"s{raw}", "--db", db), "", shown=False)  # YAML escapes
    assert json_of(kit.cli("show", f"s{raw}", "--db", db, "-f", "json"))["name"] == f"s{raw}"
    # an unknown name close to the stored one: the error and its did-you-mean, literally
    assert_literal(kit.cli("show", f"s{raw}?", "--db", db), f"s{raw}", 1)

    (sid,) = kit.create(hostile_doc(raw))
    assert_literal(kit.cli("instance", "list", "--db", db), f"s{raw}"[:24])
    assert_literal(kit.cli("instance", "show", sid, "--db", db), "", shown=False)
    for args in (("instance", "tasks", sid), ("instance", "timeline", sid)):
        assert_literal(kit.cli(*args, "--db", db), f"t{raw}")
    assert_literal(kit.cli("instance", "timeline", sid, "--db", db, "-f", "table"), f"t{raw}")
    tasks = json_of(kit.cli("instance", "tasks", sid, "--db", db, "-f", "json"))
    assert tasks[0]["task"] == f"t{raw}" and tasks[0]["strategy"]["name"] == f"s{raw}"
    assert_literal(kit.cli("run", "--db", db, "--dry-run"), f"t{raw}")
    assert_literal(kit.cli("instance", "cancel", sid, "--db", db), f"t{raw}")


def test_completion_never_offers_a_name_with_controls(
    kit: RunKit, capsys: pytest.CaptureFixture[str]
) -> None:
    from strategy_cli.complete import main as complete

    for raw in ("plain", "[/]x", ":100:", "\x1b[2J", "a\nforged", "\u202eabc"):
        assert (
            kit.cli(
                "apply", str(kit.write(strategy_doc(raw, "http://x"))), "--db", str(kit.db)
            ).code
            == 0
        )
    capsys.readouterr()
    complete(["4", "strategy", "show", "--db", str(kit.db), ""])
    offered = capsys.readouterr().out.splitlines()
    assert sorted(offered) == [":100:", "[/]x", "plain"], offered


@pytest.mark.parametrize("raw", _ids())
def test_simulate_in_every_format(kit: RunKit, raw: str) -> None:
    path = kit.write(hostile_doc(raw))
    base = ("simulate", str(path), "--db", ":memory:", "--cycles", "1", "--start", PAST)
    for fmt in ("timeline", "table"):
        assert_literal(kit.cli(*base, "-f", fmt, "-a", '{"id": "x"}'), f"t{raw}")
    doc = json_of(kit.cli(*base, "-f", "json", "-a", '{"id": "x"}'))
    assert f"t{raw}" in [e["task"] for e in doc["events"]]
    ics = run_cli(*base, "-f", "ics", "-a", '{"id": "x"}')  # bytes on stdout: a subprocess
    assert ics.returncode == 0, ics.stderr
    unfolded = ics.stdout.replace("\r\n ", "").replace("\r\n", "\n")
    assert not RAW_CONTROL.search(unfolded), repr(unfolded)
    from icalendar import Calendar

    summaries = [str(e["summary"]) for e in Calendar.from_ical(ics.stdout).walk("VEVENT")]
    assert summaries[0].startswith(f"t{literal(raw)} ("), summaries
    # attributes that fail instanceValidation: each problem names the hostile key literally
    doc = hostile_doc(raw)
    doc["settings"]["config"]["instanceValidation"] = {
        "properties": {f"k{raw}": {"type": "string"}, "id": {"type": "string"}}
    }
    attrs = json.dumps({f"k{raw}": 1})
    bad = kit.cli("simulate", str(kit.write(doc)), "--db", ":memory:", "-a", attrs)
    assert_literal(bad, f"k{raw}", 1)


@pytest.mark.parametrize("raw", _ids())
def test_run_and_events_show_hostile_server_messages(
    kit: RunKit, server: RecordingServer, raw: str
) -> None:
    server.routes["/hook"] = Reply(500, {"error": raw})
    doc = hostile_doc(raw, server.url)
    doc["settings"]["tasks"][0]["retryConfig"] = {"times": 0}
    (sid,) = kit.create(doc)
    db = str(kit.db)
    run = kit.run()
    assert_literal(run, f"api{raw}", 1)  # the calls-per-service table
    timeline = kit.cli("instance", "timeline", sid, "--db", db)
    assert_literal(timeline, f"t{raw}")
    event = kit.event(sid, f"t{raw}")
    assert_literal(kit.cli("event", "show", event["sid"], "--db", db), "", shown=False)
    shown = json_of(kit.cli("event", "show", event["sid"], "--db", db, "-f", "json"))
    assert shown["task"] == f"t{raw}"


@pytest.mark.parametrize("raw", _ids())
def test_event_and_instance_operations(kit: RunKit, raw: str) -> None:
    doc = hostile_doc(raw)
    doc["settings"]["config"]["manualTrigger"] = True  # events wait ONHOLD for a trigger
    (sid,) = kit.create(doc)
    db = str(kit.db)
    event = kit.event(sid, f"t{raw}")
    assert event["status"] == "ONHOLD"
    assert_literal(kit.cli("event", "trigger", event["sid"], "--db", db), f"t{raw}")
    assert_literal(kit.cli("instance", "pause", sid, "--db", db), f"t{raw}")
    # an unknown strategy close to a stored one: the error's did-you-mean names it literally
    missing = kit.cli("instance", "create", f"s{raw}?", "--db", db)
    assert_literal(missing, f"s{raw}", 1)


@pytest.mark.parametrize("raw", _ids())
def test_configuration_errors_name_hostile_tasks_literally(
    kit: RunKit, server: RecordingServer, raw: str
) -> None:
    doc = hostile_doc(raw, server.url)
    doc["settings"]["actions"][0]["data"] = {"n": "{{ attributes.missing }}"}  # cannot be built
    (sid,) = kit.create(doc)
    assert_literal(kit.run("--dry-run"), f"t{raw}", 1)
    assert_literal(kit.run(), f"t{raw}", 1)  # stderr: "event ... (task ...): configuration error"
    assert_literal(kit.cli("instance", "timeline", sid, "--db", str(kit.db)), f"t{raw}")
    assert server.requests() == []


# --- doctor and the environment -----------------------------------------------------------------


@pytest.mark.parametrize("raw", _ids())
def test_doctor_shows_a_hostile_store_path(
    kit: RunKit, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    folder = kit.folder / f"d{raw.replace('/', '_')}"
    folder.mkdir()
    monkeypatch.setenv("STRATEGY_DB", str(folder / "store.db"))
    assert_literal(kit.cli("doctor"), str(folder / "store.db"))
    doc = json_of(kit.cli("doctor", "--format", "json"))
    assert doc["store"]["path"] == str(folder / "store.db")


# --- remote: instance tasks --api-url ----------------------------------------------------------


@pytest.mark.parametrize("raw", _ids())
def test_remote_tasks_from_a_hostile_platform(
    kit: RunKit, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    events = platform_events("sec-ret-1234")
    for event in events:
        event["task"] = f"t{raw}"
        event["strategy"]["name"] = f"s{raw}"
    with serving(platform_emulator("sec-ret-1234", events)) as platform:
        args = ("instance", "tasks", INSTANCE_SID, "--secret", "sec-ret-1234")
        table = kit.cli(*args, "--api-url", platform.url)
        assert_literal(table, f"t{raw}")
        assert literal(f"s{raw}") in table.out
        doc = json_of(kit.cli(*args, "--api-url", platform.url, "-f", "json"))
        assert doc[0]["task"] == f"t{raw}" and doc[0]["strategy"]["name"] == f"s{raw}"
        # an error that quotes the API URL, set in the environment
        monkeypatch.setenv("STRATEGY_API_URL", f"{platform.url}/p{raw}")
        failed = kit.cli(*args)
        assert failed.code in (1, 2)  # refused as a URL, or answered 404
        assert_literal(failed, "", failed.code, shown=False)


# --- serve: the access log ------------------------------------------------------------------------


def test_serve_logs_a_hostile_path_on_one_line(tmp_path: Path) -> None:
    import httpx

    folder = tmp_path / "d\x1b]0;title\x07:100:"  # the banner names the store
    folder.mkdir()
    db = folder / "store.db"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strategy_cli", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env=cli_env(),
        )
        try:
            wait_for_port(port, alive=lambda: proc.poll() is None)
            path = "/execution-instance/x%0A2026-01-01 forged -> 200%1b%5B2J%E2%80%AE/get-tasks"
            httpx.get(f"http://{LOOPBACK}:{port}{path}", timeout=10)
            httpx.get(f"http://{LOOPBACK}:{port}/%1b]0;title%07", timeout=10)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert not RAW_CONTROL.search(text), repr(text)
    assert literal(str(db)) in text, text
    lines = [line for line in text.splitlines() if "GET" in line]
    assert len(lines) == 2, text
    assert lines[0].endswith(
        " GET /execution-instance/x\\n2026-01-01 forged -> 200\\x1b[2J\\u202e/get-tasks -> 404"
    ), lines
    assert not any(line.startswith("2026-01-01 forged") for line in text.splitlines())
    assert "\\x1b]0;title\\x07 -> 404" in lines[1], lines
