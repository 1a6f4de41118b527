"""No input makes `strategy` crash: every class of hostile or mistaken input of issue 11 §5 ends
in one `error:` line and exit 1 or 2 (or works), never a traceback or an "internal error".

Runs go through the real `main()` (its error boundary included): in-process with argv, stdin
and the streams swapped (`RunKit.cli`), or as a subprocess where the process's own streams are
the point (a closed stdin or stdout, a full device). Hypothesis draws the inputs; example
counts stay small so the file runs in seconds.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from clikit import Result, run_main
from conftest import LOAN_ATTRS, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remote_servers import LoopbackServer, run_cli, scripted
from remote_servers import Reply as RemoteReply
from servers import RecordingServer, Reply, RunKit, strategy_doc

from strategy_cli.complete import SPEC_PATH

LOAN = SAMPLES / "loan-collection.yaml"
ATTRS = LOAN_ATTRS
FEW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def cli(folder: Path, *args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Result:
    """`strategy ARGS` through the real main(), in this process, working in `folder`."""
    return run_main(*args, input=stdin, env=env, cwd=folder)


def assert_handled(
    r: Result | subprocess.CompletedProcess[str], codes: tuple[int, ...] = (0, 1, 2)
) -> None:
    """Exit 0, 1 or 2, never a traceback; a failure is one `error:` line, or (exit 1) findings
    reported on stdout."""
    code = r.code if isinstance(r, Result) else r.returncode
    err = r.err if isinstance(r, Result) else r.stderr
    out = r.out if isinstance(r, Result) else r.stdout
    assert code in codes, (code, out[-500:], err[-2000:])
    assert "Traceback" not in err + out, err
    assert "internal error" not in err, err
    if code:
        errors = [line for line in err.splitlines() if line.lower().startswith("error:")]
        if not errors and code == 1 and out.strip():
            return  # findings (validate) or failed events (run), on stdout
        assert len(errors) == 1, err
        assert errors[0].split(":", 1)[1].strip(), err


def failed(r: Result, code: int | None = None) -> str:
    """The one error line of a failed run (checked), for tests that expect a failure."""
    assert_handled(r, (1, 2) if code is None else (code,))
    return next(line for line in r.err.splitlines() if line.lower().startswith("error:"))


@pytest.fixture
def folder() -> Iterator[Path]:
    # Not tmp_path: hypothesis runs many examples in one test, each wants a clean folder.
    with tempfile.TemporaryDirectory(prefix="never-crash-") as name:
        yield Path(name)


# --- standard input -----------------------------------------------------------------------------


@FEW
@given(st.binary(max_size=300))
def test_any_bytes_on_stdin(folder: Path, data: bytes) -> None:
    assert_handled(cli(folder, "validate", "-", stdin=data))


def test_closed_stdin_in_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "validate", "-"],
        capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert_handled(proc, (2,))
    assert "standard input is closed" in proc.stderr


# --- unreadable files ---------------------------------------------------------------------------


@contextmanager
def unreadable(path: Path) -> Iterator[None]:
    """`path` cannot be opened: for real (mode 000) unless running as root, who reads anything;
    then every open() of it fails as the system would fail it."""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        path.chmod(0)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    real_open = builtins.open
    target = os.path.abspath(path)

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and os.path.abspath(file) == target:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    with mock.patch("builtins.open", guarded), mock.patch("io.open", guarded):
        yield


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "{f}", "--db", ":memory:"],
        ["apply", "{f}", "--db", "{db}"],
        ["instance", "create", "{f}", "--db", "{db}"],
        ["validate", "{f}"],
        ["simulate", str(LOAN), "--db", ":memory:", "--attributes", "@{f}"],
        ["simulate", str(LOAN), "--db", ":memory:", "--attributes", "@{f}", "--scenario", "{f}"],
        ["simulate", str(LOAN), "--db", ":memory:", "--instances-file", "{f}"],
    ],
    ids=["simulate", "apply", "create", "validate", "attributes", "scenario", "instances-file"],
)
def test_unreadable_file_is_an_error_for_that_path(folder: Path, args: list[str]) -> None:
    target = folder / "input.yaml"
    shutil.copy(LOAN, target)
    argv = [a.format(f=target, db=folder / "store.db") for a in args]
    if "--attributes" in argv:  # the attributes themselves readable; the other file is not
        (folder / "attrs.json").write_text(json.dumps(ATTRS))
        if "--scenario" in argv:
            argv[argv.index("--attributes") + 1] = f"@{folder / 'attrs.json'}"
    with unreadable(target):
        r = cli(folder, *argv)
    assert_handled(r, (1, 2))  # validate reports it as a finding, the others as the error
    assert str(target) in r.err + r.out, r.text


def test_a_folder_where_a_file_is_expected(folder: Path) -> None:
    (folder / "dir.yaml").mkdir()
    for args in (
        ["simulate", str(folder / "dir.yaml"), "--db", ":memory:"],
        ["simulate", str(LOAN), "--db", ":memory:", "--scenario", str(folder / "dir.yaml")],
        ["simulate", str(LOAN), "--db", ":memory:", "--attributes", f"@{folder / 'dir.yaml'}"],
        ["simulate", str(LOAN), "--db", ":memory:", "--instances-file", str(folder / "dir.yaml")],
    ):
        failed(cli(folder, *args))


def test_a_working_folder_that_was_removed(folder: Path) -> None:
    gone = folder / "gone"
    gone.mkdir()

    def enter_and_remove() -> None:
        os.chdir(gone)
        os.rmdir(gone)

    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "validate", str(LOAN)],
        capture_output=True, text=True, timeout=60, preexec_fn=enter_and_remove,
    )  # fmt: skip
    assert_handled(proc, (2,))
    assert "working folder" in proc.stderr


# --- output that cannot be written --------------------------------------------------------------

OUTPUT_COMMANDS = [
    ["schema"],
    ["rules", "--format", "json"],
    ["validate", str(LOAN), "--format", "json"],
    ["simulate", str(LOAN), "--db", ":memory:", "--attributes", json.dumps(ATTRS)],
]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", OUTPUT_COMMANDS[:3] + OUTPUT_COMMANDS[3:], ids=lambda a: a[0])
def test_output_to_a_full_device(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "strategy_cli", *args],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == "error: cannot write output: disk is full", proc.stderr


def test_closed_stdout() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "schema"],
        stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == "error: cannot write output: standard output is closed"


def test_reader_that_stops_reading() -> None:
    """`strategy schema | head -c 1`: the closed pipe ends the command quietly, no traceback."""
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "simulate", str(LOAN), "--db", ":memory:",
         "--cycles", "600", "--attributes", json.dumps(ATTRS), "--format", "json"],
        stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=120,
    )  # fmt: skip
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=10)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stderr.strip() == "", proc.stderr


# --- base URLs ----------------------------------------------------------------------------------

BAD_URLS = ["http://[::1", "http://[::1]:99999/x", "https://host:port/", "http://", "http://:80"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_base_url_in_a_strategy(folder: Path, url: str) -> None:
    kit = RunKit(folder)
    path = kit.write(strategy_doc("bad-url", url))
    linted = cli(folder, "validate", str(path))
    assert_handled(linted, (1,))
    assert "invalid-base-url" in linted.out
    for args in (
        ["simulate", str(path), "--db", ":memory:", "--attributes", '{"id": "x"}'],
        ["instance", "create", str(path), "--db", str(kit.db), "--attributes", '{"id": "x"}'],
    ):
        failed(cli(folder, *args), 1)


@pytest.mark.parametrize("url", [*BAD_URLS, "ftp://x", "", " ", "http://a b", "http://\x00x"])
def test_bad_api_url(folder: Path, url: str) -> None:
    r = cli(folder, "instance", "tasks", "0123456789ab", "--api-url", url, "--secret", "s3cret")
    assert_handled(r)
    assert "s3cret" not in r.text


# --- dates at the ends of the calendar ----------------------------------------------------------

edge_instants = st.builds(
    lambda year, month, day, hour, offset: (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:59:59"
        f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    ),
    st.sampled_from([1, 2, 9998, 9999]),
    st.sampled_from([1, 12]),
    st.sampled_from([1, 28, 31]),
    st.sampled_from([0, 23]),
    st.integers(-14 * 60, 14 * 60),
)


@FEW
@given(edge_instants, st.sampled_from(["--start", "firstDueDate"]), st.booleans())
def test_dates_at_the_ends_of_the_calendar(
    folder: Path, when: str, where: str, create: bool
) -> None:
    attrs = dict(ATTRS, firstDueDate=when) if where == "firstDueDate" else ATTRS
    start = ["--start", when] if where == "--start" else ["--start", "2026-01-01T00:00:00Z"]
    if create:
        args = ["instance", "create", str(LOAN), "--db", str(folder / "s.db"), *start]
    else:
        args = ["simulate", str(LOAN), "--db", ":memory:", "--cycles", "3", *start]
    assert_handled(cli(folder, *args, "--attributes", json.dumps(attrs)))


def test_the_documented_examples_of_calendar_ends(folder: Path) -> None:
    line = failed(
        cli(folder, "simulate", str(LOAN), "--db", ":memory:", "--attributes", json.dumps(ATTRS),
            "--start", "9999-12-31T23:59:59-14:00"),
    )  # fmt: skip
    assert "--start" in line
    year1 = json.dumps(dict(ATTRS, firstDueDate="0001-01-01T00:00:00+01:00"))
    for cmd in (["simulate", str(LOAN), "--db", ":memory:"], ["instance", "create", str(LOAN)]):
        failed(cli(folder, *cmd, "--attributes", year1, "--start", "2026-01-01T00:00:00Z"), 1)


def test_run_with_events_in_year_one(folder: Path) -> None:
    """Due events in year 1 run; a schedule that would step before year 1 is an error."""
    kit = RunKit(folder)
    with RecordingServer({"/hook": Reply(503)}) as server:
        doc = strategy_doc("year-one", server.url, task={"retry": {"times": 2}})
        doc["settings"]["schedule"]["calendars"][0]["scheduleAfter"] = {
            "unit": "days", "amount": -3, "from": "due",
        }  # fmt: skip
        path = kit.write(doc)
        for due in ("0001-01-02T00:00:00Z", "0001-01-10T00:00:00Z", "9999-12-31T23:59:00Z"):
            assert_handled(
                cli(folder, "instance", "create", str(path), "--db", str(kit.db),
                    "--start", "0001-01-01T00:00:00Z",
                    "--attributes", json.dumps({"id": "x", "due": due})),
            )  # fmt: skip
        for _ in range(2):
            assert_handled(kit.run("--env", "local"))


# --- --attributes: JSON no core should see --------------------------------------------------------

hostile_json = st.one_of(
    st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 6000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(4000, 6000).map(lambda n: '{"amountCents": ' + "9" * n + "}"),
    st.sampled_from(["\\ud800", "\\udfff", "x\\udc80y", "\\ud83d"]).map(
        lambda s: json.dumps(dict(ATTRS, loanId="@")).replace("@", s)
    ),
    st.text(max_size=60),
)


@FEW
@given(hostile_json, st.booleans())
def test_hostile_attributes(folder: Path, text: str, create: bool) -> None:
    cmd = ["instance", "create", str(LOAN)] if create else ["simulate", str(LOAN)]
    r = cli(folder, *cmd, "--db", str(folder / "s.db"), "--attributes", text)
    assert_handled(r)
    (folder / "attrs.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    assert_handled(
        cli(folder, *cmd, "--db", ":memory:", "--attributes", f"@{folder / 'attrs.json'}")
    )


@FEW
@given(hostile_json, edge_instants, edge_instants)
def test_hostile_instances_file_lines(folder: Path, text: str, start: str, due: str) -> None:
    lines = folder / "instances.jsonl"
    good = json.dumps({"attributes": ATTRS, "start": "2026-01-01T00:00:00Z"})
    bad = '{"attributes": ' + text + ', "start": "' + start + '"}'
    edge = json.dumps({"attributes": dict(ATTRS, firstDueDate=due), "start": start})
    lines.write_text(f"{good}\n{bad}\n{edge}\n", encoding="utf-8", errors="surrogatepass")
    r = cli(folder, "simulate", str(LOAN), "--db", ":memory:", "--instances-file", str(lines))
    assert_handled(r)
    if r.code:
        assert f"{lines}:" in r.err, r.err  # the line at fault


def test_integers_beyond_the_str_to_int_limit(folder: Path) -> None:
    huge = "9" * 5000
    line = failed(
        cli(folder, "simulate", str(LOAN), "--db", ":memory:",
            "--attributes", '{"amountCents": ' + huge + "}"), 2,
    )  # fmt: skip
    assert "too many digits" in line
    failed(cli(folder, "simulate", str(LOAN), "--db", ":memory:", "--cycles", huge), 2)
    big = folder / "big.yaml"
    big.write_text(LOAN.read_text().replace("version: 1", f"version: {huge}"))
    assert_handled(cli(folder, "validate", str(big)), (1,))
    failed(cli(folder, "simulate", str(big), "--db", ":memory:"), 1)


@pytest.mark.parametrize(
    "env",
    [
        {"COLUMNS": "9" * 5000, "LINES": "9" * 5000},
        {"COLUMNS": "-3"},
        {"STRATEGY_LEASE_SECONDS": "1e999"},
        {"STRATEGY_LEASE_SECONDS": "9" * 5000},
        {"STRATEGY_LEASE_SECONDS": "nan"},
    ],
    ids=["huge-columns", "negative-columns", "inf-lease", "long-lease", "nan-lease"],
)
def test_numbers_in_the_environment(
    folder: Path, store: tuple[Path, str, str], env: dict[str, str]
) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    assert_handled(cli(folder, "rules", env=env), (0,))
    assert_handled(cli(folder, "run", "--db", str(db), "--env", "sandbox", env=env))


# --- invalid UTF-8 in arguments -----------------------------------------------------------------

invalid_utf8 = (
    st.binary(min_size=1, max_size=12)
    .map(lambda b: b.replace(b"\0", b""))
    .map(lambda b: os.fsdecode(b"ab\xff" + b + b"cdefgh"))
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A store with the loan strategy, one instance and its events: (file, instance, event)."""
    folder = tmp_path_factory.mktemp("store")
    db = folder / "store.db"
    never_due = dict(ATTRS, firstDueDate="2099-01-31T00:00:00+01:00")  # `run` sends nothing
    r = cli(folder, "instance", "create", str(LOAN), "--db", str(db), "--attributes",
            json.dumps(never_due), "--start", "2098-01-01T00:00:00Z")  # fmt: skip
    assert r.code == 0, r.text
    sid = r.out.strip()
    event = sqlite3.connect(db).execute("SELECT sid FROM events LIMIT 1").fetchone()[0]
    return db, sid, event


@FEW
@given(
    invalid_utf8,
    st.sampled_from(
        [
            ["instance", "show"], ["instance", "tasks"], ["instance", "timeline"],
            ["instance", "pause"], ["event", "show"], ["event", "trigger"], ["show"],
            ["instance", "create"], ["validate"], ["simulate"], ["apply"],
        ]
    ),
)  # fmt: skip
def test_invalid_utf8_in_a_sid_name_or_path(
    folder: Path, store: tuple[Path, str, str], text: str, cmd: list[str]
) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    assert_handled(
        cli(folder, *cmd, text, "--db", str(db)) if cmd != ["validate"] else cli(folder, *cmd, text)
    )
    assert_handled(cli(folder, "instance", "list", "--strategy", text, "--db", str(db)))


def test_a_file_whose_name_is_not_utf8(folder: Path) -> None:
    name = os.fsdecode(bytes(folder) + b"/loan-\xff.yaml")
    shutil.copy(LOAN, os.fsencode(name))
    assert_handled(cli(folder, "validate", name), (0,))
    assert_handled(cli(folder, "apply", name, "--db", str(folder / "s.db")), (0,))
    proc = run_cli("validate", name, "--format", "json")
    assert_handled(proc, (0,))
    assert json.loads(proc.stdout)["summary"]["files"] == 1


# --- configuration files ------------------------------------------------------------------------

toml_values = st.sampled_from(
    ['3', '"x"', '[]', '[1, "a"]', '{}', '{a = 1}', '{api_url = 1}', 'true', '1.5', '2024-01-01',
     '{p = 3}', '{p = {api_url = "http://[::1", secret_env = "HOME"}}', '"${env:HOME}"']
)  # fmt: skip
profile_keys = st.sampled_from(
    ["profiles", "profiles.p", "profiles.p.api_url", "profiles.p.secret_env", "p"]
)
project_keys = st.sampled_from(["rules", "callbacks", "max-response-bytes", "rules.implicit-end"])


def toml_text(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key} = {value}\n" for key, value in pairs)


@FEW
@given(st.lists(st.tuples(profile_keys, toml_values), min_size=1, max_size=3))
def test_non_table_values_in_config_toml(folder: Path, pairs: list[tuple[str, str]]) -> None:
    home = folder / "config"
    (home / "strategy").mkdir(parents=True, exist_ok=True)
    (home / "strategy" / "config.toml").write_text(toml_text(pairs))
    env = {"XDG_CONFIG_HOME": str(home)}
    assert_handled(cli(folder, "instance", "tasks", "0123456789ab", "--profile", "p", env=env))


@FEW
@given(
    st.sampled_from(["pyproject", "dot"]),
    st.lists(st.tuples(project_keys, toml_values), min_size=1, max_size=3),
)
def test_non_table_values_in_project_config(
    folder: Path, kind: str, pairs: list[tuple[str, str]]
) -> None:
    for name in ("pyproject.toml", ".strategy.toml"):
        (folder / name).unlink(missing_ok=True)
    if kind == "pyproject":
        text = toml_text([(f"tool.strategy.{k}", v) for k, v in pairs])
        (folder / "pyproject.toml").write_text(text)
    else:
        (folder / ".strategy.toml").write_text(toml_text(pairs))
    shutil.copy(LOAN, folder / "s.yaml")
    assert_handled(cli(folder, "validate", str(folder / "s.yaml")))
    assert_handled(cli(folder, "simulate", str(folder / "s.yaml"), "--db", ":memory:"))


@pytest.mark.parametrize("text", ["tool = 3", "[tool]\nstrategy = 3", "[tool]\nstrategy = []"])
def test_tool_strategy_must_be_a_table(folder: Path, text: str) -> None:
    (folder / "pyproject.toml").write_text(text)
    shutil.copy(LOAN, folder / "s.yaml")
    assert "tool.strategy" in failed(cli(folder, "validate", str(folder / "s.yaml")), 2)


# --- hand-edited store records ------------------------------------------------------------------

STORE_COMMANDS = [
    ["list"], ["show", "loan-collection"], ["instance", "list"], ["instance", "show", "{i}"],
    ["instance", "tasks", "{i}"], ["instance", "tasks", "{i}", "--format", "json"],
    ["instance", "timeline", "{i}"], ["instance", "pause", "{i}"], ["instance", "cancel", "{i}"],
    ["event", "show", "{e}"], ["event", "trigger", "{e}"], ["run", "--env", "sandbox", "--dry-run"],
    ["instance", "create", "loan-collection", "--attributes", json.dumps(ATTRS)],
]  # fmt: skip

junk_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
record_keys = st.sampled_from(
    ["sid", "status", "cycle", "date", "startDate", "executionDate", "task", "instanceSid",
     "strategyId", "settings", "name", "version", "attributes", "nextEvent", "_history",
     "attempt", "taskStatus", "schedule"]
)  # fmt: skip


def damage(db: Path, table: str, column: str, how: Any) -> None:
    conn = sqlite3.connect(db)
    try:
        for sid, text in conn.execute(f"SELECT sid, {column} FROM {table}").fetchall():
            if isinstance(how, str):
                new = how
            else:
                record = json.loads(text)
                key, value = how
                target = record.get("settings", record) if key == "schedule" else record
                if value is ...:
                    target.pop(key, None)
                else:
                    target[key] = value
                new = json.dumps(record)
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE sid = ?", (new, sid))
        conn.commit()
    finally:
        conn.close()


@FEW
@given(
    st.sampled_from(
        [
            ("instances", "record"),
            ("instances", "state"),
            ("events", "record"),
            ("strategies", "record"),
        ]
    ),
    st.one_of(
        st.sampled_from(["null", "", "{", "[]", '"x"', "1e999", "[" * 3000 + "]" * 3000]),
        st.tuples(record_keys, junk_json | st.just(...)),
    ),
    st.sampled_from(STORE_COMMANDS),
)
def test_hand_edited_store_records(
    folder: Path, store: tuple[Path, str, str], where: tuple[str, str], how: Any, cmd: list[str]
) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    damage(db, *where, how)
    args = [a.replace("{i}", store[1]).replace("{e}", store[2]) for a in cmd]
    r = cli(folder, *args, "--db", str(db))
    assert_handled(r)


@pytest.mark.parametrize("table", ["instances", "events", "strategies"])
def test_a_null_record_names_table_and_row_and_doctor(
    folder: Path, store: tuple[Path, str, str], table: str
) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    damage(db, table, "record", "null")
    r = cli(folder, "instance", "show", store[1], "--db", str(db))
    line = failed(r, 1)
    assert f"{table} row" in line and "null" in line, line
    assert "strategy doctor" in r.err
    doctor = cli(folder, "doctor", "--db", str(db))
    assert_handled(doctor, (1,))
    assert f"{table} row" in doctor.out and "damaged" in doctor.out, doctor.out


def test_doctor_reports_damaged_stored_settings(folder: Path, store: tuple[Path, str, str]) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    damage(db, "strategies", "record", ("schedule", 3))
    line = failed(cli(folder, "instance", "show", store[1], "--db", str(db)), 1)
    assert "settings.schedule" in line, line
    doctor = cli(folder, "doctor", "--db", str(db), "--format", "json")
    assert doctor.code == 1
    assert "settings.schedule" in json.loads(doctor.out)["store"]["problems"][0]


# --- deeply nested responses --------------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    "body", [DEEP, '[{"a": ' * 100 + "1" + "}]" * 100, '[{"n": ' + "9" * 5000 + "}]", '["\\ud800"]']
)
def test_remote_response_the_tool_cannot_use(folder: Path, body: str) -> None:
    with LoopbackServer(scripted(RemoteReply(200, body.encode()))) as server:
        r = cli(
            folder,
            "instance",
            "tasks",
            "0123456789ab",
            "--api-url",
            server.url,
            "--secret",
            "s3cr3t",
        )
    line = failed(r, 1)
    assert "s3cr3t" not in r.text
    assert "JSON" in line or "shape" in line, line


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[LoopbackServer, list[bytes]]]:
    """One loopback platform for many examples (starting a server costs more than a call):
    it answers with the last body put in the list."""
    bodies = [b"[]"]
    with LoopbackServer(lambda _: RemoteReply(200, bodies[-1])) as server:
        yield server, bodies


@FEW
@given(hostile_json.map(str.encode) | st.binary(max_size=200), st.sampled_from(["json", "text"]))
def test_any_remote_body(
    folder: Path, platform: tuple[LoopbackServer, list[bytes]], body: bytes, format: str
) -> None:
    server, bodies = platform
    bodies.append(body)
    r = cli(folder, "instance", "tasks", "0123456789ab", "--api-url", server.url,
            "--secret", "s3cr3t", "--format", format)  # fmt: skip
    assert_handled(r)
    assert "s3cr3t" not in r.text


@pytest.mark.parametrize("body", [DEEP, '{"n": ' + "9" * 5000 + "}", '{"x": "\\ud800"}'])
def test_service_response_the_tool_cannot_use(folder: Path, body: str) -> None:
    kit = RunKit(folder)
    method = {"key": "hook", "url": "/hook", "method": "post", "responseValidation": {}}
    with RecordingServer({"/hook": Reply(200, body, raw=True)}) as server:
        plain = strategy_doc("deep", server.url)
        checked = strategy_doc("deep-checked", server.url, methods=[method])
        kit.create(plain)
        kit.create(checked)
        r = kit.run("--env", "local")
    assert_handled(r)
    statuses = {e["status"] for e in kit.events()}
    assert statuses <= {"PROCESSED", "FAILED", "PENDING"}, statuses
    assert_handled(cli(folder, "instance", "list", "--db", str(kit.db)), (0,))


# --- any command, any option --------------------------------------------------------------------
# Every command and option of the CLI (from the completion spec, so a new one is covered the day
# it is added) with values of every class above. Left out: what listens or loops (`serve`,
# `--watch`), what talks to a remote (`--api-url`, `--profile`, `--secret`), and where files go
# (`--db`, `-o`: a copy of the test store, and the working folder, are used instead).

SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
SKIPPED = {
    "--help",
    "-h",
    "--watch",
    "--api-url",
    "--secret",
    "--profile",
    "--db",
    "--output",
    "-o",
}
HOSTILE = [
    "ab\udcffcd\udc80efgh", "[" * 3000 + "]" * 3000, "9" * 5000, "-" + "9" * 5000,
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "http://[::1", "", "-", "@-",
    "@/no/such/file", '{"a": "\\ud800"}', "[/]x", "\x1b]0;title\x07", "1e999", "nan", "-1",
]  # fmt: skip


def _leaves(
    node: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    if path and not node.get("commands"):
        yield path, node
    for name, child in sorted((node.get("commands") or {}).items()):
        yield from _leaves(child, (*path, name))


COMMANDS = [(p, n) for p, n in _leaves(SPEC) if p[0] != "serve"]


@st.composite
def invocations(draw: Any, sid: str, event: str) -> list[str]:
    path, node = draw(st.sampled_from(COMMANDS))
    hostile = st.sampled_from(HOSTILE) | st.text(max_size=12)
    good = {
        "file": str(LOAN),
        "instance-sid": sid,
        "event-sid": event,
        "strategy": "loan-collection",
    }
    argv = list(path)
    for arg in node.get("args", []):
        argv.append(draw(st.just(good[arg["kind"]]) | hostile if arg["kind"] in good else hostile))
    options = [o for o in sorted(node.get("options", {})) if o not in SKIPPED]
    for option in draw(
        st.lists(st.sampled_from(options), max_size=2, unique=True) if options else st.just([])
    ):
        argv.append(option)
        if node["options"][option]["value"]:
            argv.append(draw(hostile))
    return argv


@settings(FEW, max_examples=40)
@given(st.data())
def test_any_command_with_hostile_values(
    folder: Path, store: tuple[Path, str, str], data: st.DataObject
) -> None:
    db = folder / "s.db"
    shutil.copy(store[0], db)
    argv = data.draw(invocations(store[1], store[2]))
    # `init` and friends write into the working folder: the test's own
    assert_handled(cli(folder, *argv, env={"STRATEGY_DB": str(db)}))


def test_serve_answers_500_for_a_damaged_record(
    folder: Path, store: tuple[Path, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """`strategy serve` reads the same records: a damaged one is one log line and HTTP 500."""
    import asyncio

    import httpx

    from strategy_cli.adapters.server import make_app
    from strategy_cli.adapters.store import Store

    db = folder / "s.db"
    shutil.copy(store[0], db)
    damage(db, "instances", "record", "null")

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=make_app(Store(db)))
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
            return await client.get(path)

    reply = asyncio.run(get(f"/execution-instance/{store[1]}/get-tasks"))
    assert reply.status_code == 500
    assert "instances row" in caplog.text and "Traceback" not in caplog.text
    assert asyncio.run(get("/execution-instance/ab%FFcdefgh/get-tasks")).status_code in (404, 500)


# --- the boundary in main() ---------------------------------------------------------------------


def _surrogate_error() -> UnicodeEncodeError:
    try:
        "a\udcffb".encode()
    except UnicodeEncodeError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("raised", "code", "says"),
    [
        (OverflowError("date value out of range"), 1, "a date falls outside the calendar"),
        (RecursionError("maximum recursion depth exceeded"), 1, "nested too deeply"),
        (_surrogate_error(), 1, "not valid UTF-8"),
        (ValueError("Exceeds the limit (4300 digits) for integer string conversion"), 1, "digits"),
        (OSError(28, "No space left on device"), 1, "cannot write output: disk is full"),
        (OSError(13, "Permission denied", "/some/file"), 2, "/some/file: Permission denied"),
        (OSError(9, "standard output is closed"), 1, "cannot write output"),
        (BrokenPipeError(32, "Broken pipe"), 1, None),
        (ValueError("embedded null byte"), 2, "NUL character"),
        (ValueError("a bug, not an input"), 3, "internal error: ValueError: a bug, not an input"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_main_maps_what_escapes_to_one_line(
    folder: Path, raised: BaseException, code: int, says: str | None
) -> None:
    """Whatever escapes a command reaches main()'s one boundary: each class of input problem
    gets its own line and code, and anything else stays an internal error (a bug to report)."""
    from strategy_cli.cli import app

    app._register()  # every command on the real app first: none may register on the stand-in
    with mock.patch.object(app, "app", side_effect=raised):
        r = cli(folder, "rules")
    assert r.code == code, r
    lines = r.err.strip().splitlines()
    if says is None:
        assert lines == []
    else:
        assert says in lines[0] and len([x for x in lines if x.startswith("error:")]) == 1, r.err
