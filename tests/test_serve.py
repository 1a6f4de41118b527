"""`strategy serve`, started as a real subprocess on loopback, read by the remote client."""

from __future__ import annotations

import inspect
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SAMPLES
from remote_servers import LOOPBACK, cli_env, free_port, run_cli, wait_for_port

from strategy_cli.adapters import server as server_mod
from strategy_cli.adapters.server import make_app, secret_matches

SECRET = "serve-S3CRET-value-42"
WRONG = "wrong-secret-value-17"
ATTRIBUTES = (
    '{"loanId":"L1","customerEmail":"a@b.c",'
    '"firstDueDate":"2026-01-31T00:00:00+01:00","amountCents":1000}'
)
LOG_LINE = re.compile(r"127\.0\.0\.1 (GET|POST|HEAD) /\S* -> \d{3}$")


@dataclass
class Store:
    db: Path
    sid: str
    env: dict[str, str]


@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    _offset: int = 0

    def new_log_lines(self, expect: int = 0, timeout: float = 10.0) -> list[str]:
        """Lines the server wrote to stderr since the last call (waiting for `expect` of them).

        The server logs a request after answering it, so a client can be faster than the log.
        """
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            complete = text[: text.rfind("\n") + 1]
            lines = complete[self._offset :].splitlines()
            if len(lines) >= expect or time.monotonic() > deadline:
                self._offset = len(complete)
                return lines
            time.sleep(0.05)


def _create_store(directory: Path) -> Store:
    env = {
        "XDG_DATA_HOME": str(directory / "xdg-data"),
        "XDG_CONFIG_HOME": str(directory / "xdg-config"),
        "LOAN_STRATEGY_SECRET": SECRET,
    }
    db = directory / "team.db"
    applied = run_cli("apply", str(SAMPLES / "loan-collection.yaml"), "--db", str(db), env=env)
    assert applied.returncode == 0, applied.stderr
    created = run_cli(
        "instance",
        "create",
        "loan-collection",
        "--attributes",
        ATTRIBUTES,
        "--db",
        str(db),
        env=env,
    )
    assert created.returncode == 0, created.stderr
    return Store(db, created.stdout.strip(), env)


def _start(store: Store, log: Path, *extra: str) -> Served:
    """`strategy serve` on a free port; a port taken in between is retried with another."""
    for _ in range(3):
        port = free_port()
        with log.open("wb") as stderr:
            command = ["serve", "--port", str(port), "--db", str(store.db), *extra]
            proc = subprocess.Popen(
                [sys.executable, "-m", "strategy_cli", *command],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=cli_env(store.env),
            )
        try:
            wait_for_port(port, timeout=30, alive=lambda p=proc: p.poll() is None)
        except AssertionError:
            _stop(proc)
            continue
        return Served(f"http://{LOOPBACK}:{port}", port, proc, log)
    raise AssertionError("strategy serve did not start: " + log.read_text(errors="replace"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return _create_store(tmp_path_factory.mktemp("serve-store"))


@pytest.fixture(scope="module")
def served(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    running = _start(store, tmp_path_factory.mktemp("serve-log") / "serve.log")
    try:
        yield running
    finally:
        _stop(running.proc)


def remote(served: Served, sid: str, *extra: str, secret: str = SECRET) -> Any:
    return run_cli(
        "instance", "tasks", sid, "--api-url", served.url, "--secret", secret, *extra, env={}
    )


def local(store: Store, sid: str, *extra: str) -> Any:
    return run_cli("instance", "tasks", sid, "--db", str(store.db), *extra, env=store.env)


# --- the endpoint, read with the CLI ----------------------------------------------------------


def test_remote_json_is_the_local_json(store: Store, served: Served) -> None:
    there = remote(served, store.sid, "--format", "json")
    here = local(store, store.sid, "--format", "json")
    assert there.returncode == 0, there.stderr
    assert here.returncode == 0, here.stderr
    assert json.loads(there.stdout) == json.loads(here.stdout)
    assert there.stdout == here.stdout
    doc = json.loads(there.stdout)
    assert len(doc) >= 1
    assert {e["instanceSid"] for e in doc} == {store.sid}
    assert doc[0]["strategy"]["secret"] == "***"
    assert doc[0]["instance"]["strategy"]["secret"] == "***"
    assert SECRET not in there.stdout + there.stderr


def test_remote_table_is_the_local_table(store: Store, served: Served) -> None:
    there, here = remote(served, store.sid), local(store, store.sid)
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout
    assert "loan-collection" in there.stdout and "pending task(s)" in there.stdout


def test_wrong_secret(store: Store, served: Served) -> None:
    served.new_log_lines()
    proc = remote(served, store.sid, secret=WRONG)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == "error: the secret was refused for this strategy"
    assert WRONG not in proc.stderr and SECRET not in proc.stderr
    (line,) = served.new_log_lines(expect=1)
    assert line.endswith(f"GET /execution-instance/{store.sid}/get-tasks -> 401")


def test_unknown_instance(served: Served) -> None:
    served.new_log_lines()
    sid = "99999999-8888-7777-6666-555555555555"
    proc = remote(served, sid)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == f"error: no such instance: {sid}"
    (line,) = served.new_log_lines(expect=1)
    assert line.endswith(f"/execution-instance/{sid}/get-tasks -> 404")


def test_status_codes(store: Store, served: Served) -> None:
    path = f"{served.url}/execution-instance/{store.sid}/get-tasks"
    with httpx.Client(timeout=10) as client:
        assert client.get(path).status_code == 401  # no header
        assert client.get(path, headers={"Strategy-Secret": ""}).status_code == 401
        assert client.get(path, headers={"Strategy-Secret": WRONG}).status_code == 401
        assert client.get(path, headers={"Strategy-Secret": SECRET[:-1]}).status_code == 401
        # the stored secret is the template, not a value: it must not open the door
        template = {"Strategy-Secret": "${env:LOAN_STRATEGY_SECRET}"}
        assert client.get(path, headers=template).status_code == 401
        ok = client.get(path, headers={"Strategy-Secret": SECRET})
        assert ok.status_code == 200
        assert ok.headers["content-type"].startswith("application/json")
        assert isinstance(ok.json(), list)
        gone = path.replace(store.sid, "00000000-0000-0000-0000-000000000000")
        assert client.get(gone, headers={"Strategy-Secret": SECRET}).status_code == 404
        assert client.post(path, headers={"Strategy-Secret": SECRET}).status_code == 405


def test_one_log_line_per_request_without_the_secret(store: Store, served: Served) -> None:
    served.new_log_lines()
    path = f"/execution-instance/{store.sid}/get-tasks"
    with httpx.Client(base_url=served.url, timeout=10) as client:
        answers = [
            client.get(path, headers={"Strategy-Secret": SECRET}).status_code,
            client.get(path, headers={"Strategy-Secret": WRONG}).status_code,
            client.get(path).status_code,
            client.get("/execution-instance/nope/get-tasks").status_code,
            client.get("/elsewhere", params={"secret": SECRET}).status_code,
            client.post(path, headers={"Strategy-Secret": SECRET}).status_code,
        ]
    assert answers == [200, 401, 401, 404, 404, 405]
    lines = served.new_log_lines(expect=len(answers))
    assert len(lines) == len(answers), lines
    for line, status in zip(lines, answers, strict=True):
        assert LOG_LINE.search(line), line
        assert line.endswith(f"-> {status}")
    text = "\n".join(lines)
    assert SECRET not in text and WRONG not in text
    assert "?" not in text  # no query string either


def test_new_instances_are_served_without_a_restart(store: Store, served: Served) -> None:
    created = run_cli(
        "instance",
        "create",
        "loan-collection",
        "--attributes",
        ATTRIBUTES.replace("L1", "L2"),
        "--db",
        str(store.db),
        env=store.env,
    )
    assert created.returncode == 0, created.stderr
    sid = created.stdout.strip()
    there = remote(served, sid, "--format", "json")
    assert there.returncode == 0, there.stderr
    assert there.stdout == local(store, sid, "--format", "json").stdout


def test_binds_to_loopback_by_default(store: Store, tmp_path: Path) -> None:
    assert inspect.signature(_serve_command()).parameters["host"].default == "127.0.0.1"
    running = _start(store, tmp_path / "serve.log")  # no --host
    try:
        banner = running.new_log_lines(expect=1)[0]
        assert f"on http://127.0.0.1:{running.port} " in banner
        listening = _listening_addresses(running.port)
        if listening is None:
            pytest.skip("no /proc/net/tcp to read the bound address from")
        assert listening == {"127.0.0.1"}
    finally:
        _stop(running.proc)
    assert running.proc.returncode is not None


def _serve_command() -> Any:
    from strategy_cli.cli.serve import serve

    return serve


def _listening_addresses(port: int) -> set[str] | None:
    """The IPv4 addresses listening on `port`, from /proc/net/tcp (Linux); None elsewhere."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    found = set()
    for row in table.read_text().splitlines()[1:]:
        local_address, state = row.split()[1], row.split()[3]
        address, hex_port = local_address.split(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_ctrl_c_stops_cleanly(store: Store, tmp_path: Path) -> None:
    running = _start(store, tmp_path / "serve.log")
    running.proc.send_signal(signal.SIGINT)
    try:
        assert running.proc.wait(timeout=15) == 0
    finally:
        _stop(running.proc)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_sigterm_stops(store: Store, tmp_path: Path) -> None:
    running = _start(store, tmp_path / "serve.log")
    running.proc.terminate()
    try:
        # uvicorn shuts down gracefully, then re-raises the signal: killed by SIGTERM, or 0
        assert running.proc.wait(timeout=15) in (0, -signal.SIGTERM)
    finally:
        _stop(running.proc)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


# --- secret_matches ----------------------------------------------------------------------------


def test_secret_matches_literal() -> None:
    assert secret_matches("abc-123", "abc-123")
    assert not secret_matches("abc-123", "abc-124")
    assert not secret_matches("abc-123", "abc-12")
    assert not secret_matches("abc-123", "")
    assert not secret_matches("abc-123", None)
    assert not secret_matches("abc-123", "ABC-123")
    assert secret_matches("spaß", "spaß")  # no crash on non-ASCII


def test_a_strategy_without_a_secret_refuses_everyone() -> None:
    assert not secret_matches(None, "")
    assert not secret_matches("", "")
    assert not secret_matches(None, "anything")
    assert not secret_matches("", None)


def test_secret_matches_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAM_STRATEGY_SECRET", "from-env-77")
    assert secret_matches("${env:TEAM_STRATEGY_SECRET}", "from-env-77")
    assert not secret_matches("${env:TEAM_STRATEGY_SECRET}", "${env:TEAM_STRATEGY_SECRET}")
    assert not secret_matches("${env:TEAM_STRATEGY_SECRET}", "from-env-7")
    monkeypatch.setenv("TEAM_STRATEGY_SECRET", "")
    assert not secret_matches("${env:TEAM_STRATEGY_SECRET}", "")
    monkeypatch.delenv("TEAM_STRATEGY_SECRET")
    assert not secret_matches("${env:TEAM_STRATEGY_SECRET}", "")
    assert not secret_matches("${env:TEAM_STRATEGY_SECRET}", "from-env-77")


def test_secret_matches_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = server_mod.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(server_mod.hmac, "compare_digest", spy)
    monkeypatch.setenv("TEAM_STRATEGY_SECRET", "from-env-77")
    assert secret_matches("abc-123", "abc-123")
    assert not secret_matches("abc-123", "zzz")
    assert secret_matches("${env:TEAM_STRATEGY_SECRET}", "from-env-77")
    assert calls == [
        (b"abc-123", b"abc-123"),
        (b"abc-123", b"zzz"),
        (b"from-env-77", b"from-env-77"),
    ]


# --- the app in process -----------------------------------------------------------------------


class _BrokenStore:
    def get_instance(self, sid: str) -> Any:
        raise RuntimeError("disk on fire")


def test_a_crash_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    app = make_app(_BrokenStore())  # type: ignore[arg-type]
    path = "/execution-instance/x/get-tasks"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"strategy-secret", SECRET.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level("INFO", logger="strategy.serve"), pytest.raises(RuntimeError):
        asyncio.run(app(scope, receive, send))  # the 500 is sent, then the error re-raised
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "strategy.serve"]
    assert lines == [f"127.0.0.1 GET {path} -> 500"]
    assert SECRET not in caplog.text
