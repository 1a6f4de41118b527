"""`strategy instance tasks` in remote mode, against loopback servers (tests/remote_servers.py).

The CLI runs through its real main(); every failure must be one `error:` line on stderr (plus, at
most, the CLI's usual `hint:` line), the documented exit code, and never the secret.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from remote_servers import (
    EVENT_SIDS,
    INSTANCE_SID,
    LoopbackServer,
    Reply,
    free_port,
    platform_emulator,
    platform_events,
    run_cli,
    scripted,
    self_signed_context,
    serving,
)

from strategy_cli.adapters import platform
from strategy_cli.errors import StrategyError, UsageError

SECRET = "s3cr3t-VALUE-xyz-123"
WRONG = "not-the-secret-987"


# --- helpers ----------------------------------------------------------------------------------


def tasks(url: str, *extra: str, secret: str = SECRET, sid: str = INSTANCE_SID, **kw: Any) -> Any:
    return run_cli("instance", "tasks", sid, "--api-url", url, "--secret", secret, *extra, **kw)


def error_line(proc: Any, code: int = 1, secrets: tuple[str, ...] = (SECRET, WRONG)) -> str:
    """The one `error:` line of a failed run, after checking everything else about the failure."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    for secret in secrets:
        assert secret not in proc.stdout + proc.stderr, "the secret was echoed"
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert all(line.startswith("  hint: ") for line in lines if line not in errors), proc.stderr
    assert lines[0] == errors[0], proc.stderr
    return errors[0]


def redacted(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(doc)
    for event in out:
        event["strategy"]["secret"] = "***"
        event["instance"]["strategy"]["secret"] = "***"
    return out


@pytest.fixture
def emulator() -> Any:
    with serving(platform_emulator(SECRET)) as server:
        yield server


# --- success ------------------------------------------------------------------------------------


def test_table_from_the_emulator(emulator: LoopbackServer) -> None:
    proc = tasks(emulator.url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    assert f"platform-loans · instance {INSTANCE_SID}" in out
    # 2026-02-26T08:00Z and 2026-03-01T08:00Z in the strategy's zone (Europe/Madrid, UTC+1)
    assert "2026-02-26 09:00" in out and "remind" in out and "QUEUED" in out
    assert "2026-03-01 09:00" in out and "charge" in out and "PENDING" in out
    assert EVENT_SIDS[0][:8] in out and EVENT_SIDS[1][:8] in out
    assert "2 pending task(s); times in Europe/Madrid" in out
    assert SECRET not in out
    # the request: one GET, the documented path, the secret in the Strategy-Secret header
    assert emulator.hits == 1
    (seen,) = emulator.seen
    assert seen.method == "GET"
    assert seen.path == f"/execution-instance/{INSTANCE_SID}/get-tasks"
    assert seen.headers["strategy-secret"] == SECRET


def test_json_is_the_response_unchanged_but_for_secrets(emulator: LoopbackServer) -> None:
    proc = tasks(emulator.url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout
    doc = json.loads(proc.stdout)
    assert doc == redacted(platform_events(SECRET))
    # unknown fields survive at every level, values and date strings are not rewritten
    remind, charge = doc
    assert remind["futureField"] == {"nested": [1, 2]}
    assert charge["futureField"] == 1
    assert charge["instance"]["futureField"] == 1
    assert charge["strategy"]["futureField"] == 1
    assert charge["instance"]["strategy"]["futureField"] == 1
    assert charge["taskStatus"]["futureField"] == 1
    assert charge["taskStatus"]["taskResults"][0]["futureField"] == 1
    assert charge["strategy"]["settings"]["config"]["futureConfig"] == {"x": 1}
    assert charge["date"] == "2026-03-01T08:00:00.000Z"
    assert charge["executionTime"] == 812.5


def test_json_keeps_an_empty_array(tmp_path: Path) -> None:
    with serving(platform_emulator(SECRET, events=[])) as server:
        proc = tasks(server.url, "--format", "json")
        text = tasks(server.url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    assert text.returncode == 0 and "no pending tasks" in text.stdout


def test_api_url_with_a_path_prefix() -> None:
    def respond(seen: Any) -> Reply:
        ok = seen.path == f"/api/v2/execution-instance/{INSTANCE_SID}/get-tasks"
        return Reply(200, platform_events(SECRET)) if ok else Reply(404, {})

    with serving(respond) as server:
        proc = tasks(server.url + "/api/v2/", "--format", "json")
    assert proc.returncode == 0, proc.stderr


def test_environment_settings(emulator: LoopbackServer) -> None:
    env = {"STRATEGY_API_URL": emulator.url, "STRATEGY_SECRET": SECRET}
    proc = run_cli("instance", "tasks", INSTANCE_SID, "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 2
    assert emulator.seen[0].headers["strategy-secret"] == SECRET


def test_api_url_without_a_secret_is_a_usage_error(emulator: LoopbackServer) -> None:
    proc = run_cli("instance", "tasks", INSTANCE_SID, "--api-url", emulator.url)
    line = error_line(proc, 2)
    assert "secret" in line
    assert emulator.hits == 0


def test_the_models_keep_unknown_fields() -> None:
    from pydantic import TypeAdapter

    from strategy_cli.core.models import Event

    events = TypeAdapter(list[Event]).validate_python(platform_events(SECRET))
    charge = events[1]
    assert charge.model_extra == {"futureField": 1}
    assert charge.instance is not None and charge.instance.model_extra == {"futureField": 1}
    assert charge.strategy is not None and charge.strategy.model_extra == {"futureField": 1}
    assert charge.model_dump(mode="json", exclude_unset=True)["futureField"] == 1


# --- HTTP failures ----------------------------------------------------------------------------


def test_wrong_secret_is_refused(emulator: LoopbackServer) -> None:
    line = error_line(tasks(emulator.url, secret=WRONG))
    assert "the secret was refused for this strategy" in line
    assert emulator.hits == 1  # a refusal is not retried


def test_403_is_refused_too() -> None:
    with serving(scripted(Reply(403, {"message": "Forbidden"}))) as server:
        line = error_line(tasks(server.url))
        assert server.hits == 1
    assert "the secret was refused for this strategy" in line


def test_unknown_instance(emulator: LoopbackServer) -> None:
    sid = "11111111-2222-3333-4444-555555555555"
    line = error_line(tasks(emulator.url, sid=sid))
    assert "no such instance" in line and sid in line
    assert emulator.hits == 1


def test_429_and_5xx_are_retried_until_success() -> None:
    script = scripted(
        Reply(503, "busy", {"Retry-After": "0"}),
        Reply(429, "slow down", {"Retry-After": "0"}),
        Reply(200, platform_events(SECRET)),
    )
    with serving(script) as server:
        proc = tasks(server.url, "--format", "json")
        assert server.hits == 3
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == redacted(platform_events(SECRET))


def test_retries_are_bounded() -> None:
    with serving(scripted(Reply(503, "busy", {"Retry-After": "0"}))) as server:
        started = time.monotonic()
        line = error_line(tasks(server.url))
        assert server.hits == platform.RETRIES + 1
    assert time.monotonic() - started < 30
    assert "HTTP 503" in line and f"after {platform.RETRIES + 1} attempts" in line


def test_a_long_retry_after_is_not_waited_for() -> None:
    with serving(scripted(Reply(429, "later", {"Retry-After": "3600"}))) as server:
        started = time.monotonic()
        line = error_line(tasks(server.url))
        assert server.hits == 1
    assert time.monotonic() - started < 20
    assert "HTTP 429" in line and "retry after 3600 s" in line


def test_other_statuses_are_not_retried() -> None:
    with serving(scripted(Reply(400, {"message": "bad"}))) as server:
        line = error_line(tasks(server.url))
        assert server.hits == 1
    assert "HTTP 400" in line


def _in_process(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Call get_tasks in this process with time.sleep recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(platform, "time", SimpleNamespace(sleep=waits.append))
    with contextlib.suppress(StrategyError):
        platform.get_tasks(platform.Remote(server.url, SECRET, "test"), INSTANCE_SID, 5.0)
    return waits


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (None, [0.5, 1.0, 2.0]),  # no header: exponential backoff
        ("2", [2.0, 2.0, 2.0]),  # delta-seconds are honoured
        ("0", [0.0, 0.0, 0.0]),
        ("Wed, 21 Oct 2015 07:28:00 GMT", [0.0, 0.0, 0.0]),  # an HTTP date in the past
        ("soon", [0.5, 1.0, 2.0]),  # unreadable: backoff
    ],
)
def test_backoff_honours_retry_after(
    monkeypatch: pytest.MonkeyPatch, retry_after: str | None, expected: list[float]
) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    with serving(scripted(Reply(503, "busy", headers))) as server:
        assert _in_process(server, monkeypatch) == expected
        assert server.hits == platform.RETRIES + 1


def test_retry_after_as_a_future_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
    with serving(scripted(Reply(503, "busy", {"Retry-After": when}))) as server:
        waits = _in_process(server, monkeypatch)
    assert len(waits) == platform.RETRIES
    assert all(0.0 <= w <= 2.0 for w in waits)


# --- transport failures -----------------------------------------------------------------------


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = error_line(tasks(url))
    assert "cannot connect" in line and "refused" in line.lower()


def test_timeout() -> None:
    with serving(scripted(Reply(200, platform_events(SECRET), delay=30))) as server:
        started = time.monotonic()
        line = error_line(tasks(server.url, "--timeout", "0.5"))
        elapsed = time.monotonic() - started
        assert server.hits == 1  # a timeout is not retried
    assert "did not answer in time" in line
    assert elapsed < 20


def test_https_to_a_plain_http_server(emulator: LoopbackServer) -> None:
    line = error_line(tasks(emulator.url.replace("http://", "https://")))
    assert "TLS" in line or "SSL" in line


def test_self_signed_certificate(tmp_path: Path) -> None:
    context = self_signed_context(tmp_path)
    if context is None:
        pytest.skip("needs the openssl command to make a certificate")
    with serving(platform_emulator(SECRET), tls=context) as server:
        assert server.url.startswith("https://")
        line = error_line(tasks(server.url))
        assert server.hits == 0  # the handshake failed: no request was sent
    assert "TLS" in line
    assert "certificate" in line.lower()


# --- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["<html><body>502 Bad Gateway</body></html>", "", b"\xff\xfe\x00garbage"]
)
def test_a_body_that_is_not_json(body: Any) -> None:
    with serving(scripted(Reply(200, body))) as server:
        line = error_line(tasks(server.url))
    assert "not JSON" in line


def _mutated(where: str) -> Any:
    doc: Any = platform_events(SECRET)
    if where == "[0].status":
        doc[0]["status"] = SECRET  # the offending value must not be echoed either
    elif where == "[0].instance.cycle":
        del doc[0]["instance"]["cycle"]
    elif where == "[1].sid":
        del doc[1]["sid"]
    elif where == "[1].date":
        doc[1]["date"] = "next tuesday"
    elif where == "[1].main":
        doc[1]["main"] = "sometimes"
    elif where == "[0].strategy.secret":
        doc[0]["strategy"]["secret"] = None
    elif where == "[1].instance.strategy.name":
        del doc[1]["instance"]["strategy"]["name"]
    elif where == "[1].taskStatus.lastStep":
        del doc[1]["taskStatus"]["lastStep"]
    elif where == "(body)":
        doc = {"items": doc}
    elif where == "[0]":
        doc[0] = "not an event"
    return doc


@pytest.mark.parametrize(
    "where",
    [
        "[0].status",
        "[0].instance.cycle",
        "[1].sid",
        "[1].date",
        "[1].main",
        "[0].strategy.secret",
        "[1].instance.strategy.name",
        "[1].taskStatus.lastStep",
        "(body)",
        "[0]",
    ],
)
def test_a_body_of_the_wrong_shape_names_the_field(where: str) -> None:
    with serving(scripted(Reply(200, _mutated(where)))) as server:
        line = error_line(tasks(server.url, "--format", "json"))
    assert "does not match the get-tasks shape" in line
    assert f"shape: {where}: " in line


# --- secrets that cannot travel, URLs that cannot be used ---------------------------------------


@pytest.mark.parametrize(
    "secret", ["abc-LINE\nBREAK-zq9", "spaß-GEHEIM-zq9", "zz-TAB\tTABSECRET-zq9"]
)
def test_a_secret_no_header_can_carry(emulator: LoopbackServer, secret: str) -> None:
    proc = tasks(emulator.url, secret=secret)
    line = error_line(proc, 2, secrets=(secret, *secret.split()))
    assert "secret" in line and "header" in line
    assert emulator.hits == 0


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http://[::1", "http:///path"])
def test_an_unusable_api_url(url: str) -> None:
    line = error_line(run_cli("instance", "tasks", "x", "--api-url", url, "--secret", SECRET), 2)
    assert "--api-url" in line and "URL" in line


def test_the_secret_is_not_sent_to_the_log_of_a_failed_unit_call() -> None:
    """The in-process errors: neither message nor hint carries the secret."""
    remote = platform.Remote(f"http://127.0.0.1:{free_port()}", SECRET, "test")
    with pytest.raises(StrategyError) as info:
        platform.get_tasks(remote, INSTANCE_SID, 2.0)
    assert SECRET not in info.value.message + (info.value.hint or "")
    assert SECRET not in repr(info.value.args)


# --- profiles -----------------------------------------------------------------------------------


def _config(text: str) -> Path:
    import os

    path = Path(os.environ["XDG_CONFIG_HOME"]) / "strategy" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _profile_run(*extra: str, env: dict[str, str] | None = None) -> Any:
    return run_cli("instance", "tasks", INSTANCE_SID, *extra, env=env)


def test_profile(emulator: LoopbackServer) -> None:
    _config(f'[profiles.team]\napi_url = "{emulator.url}"\nsecret_env = "TEAM_SECRET"\n')
    proc = _profile_run("--profile", "team", "--format", "json", env={"TEAM_SECRET": SECRET})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == redacted(platform_events(SECRET))
    assert emulator.seen[0].headers["strategy-secret"] == SECRET


def test_profile_with_the_wrong_secret(emulator: LoopbackServer) -> None:
    _config(f'[profiles.team]\napi_url = "{emulator.url}"\nsecret_env = "TEAM_SECRET"\n')
    line = error_line(_profile_run("--profile", "team", env={"TEAM_SECRET": WRONG}))
    assert "the secret was refused for this strategy" in line


def _usage_line(proc: Any) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert SECRET not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_missing_profile(emulator: LoopbackServer) -> None:
    _config(f'[profiles.team]\napi_url = "{emulator.url}"\nsecret_env = "TEAM_SECRET"\n')
    line = _usage_line(_profile_run("--profile", "prod", env={"TEAM_SECRET": SECRET}))
    assert "--profile prod" in line and "team" in line  # names the profiles there are
    assert emulator.hits == 0


def test_missing_environment_variable(emulator: LoopbackServer) -> None:
    _config(f'[profiles.team]\napi_url = "{emulator.url}"\nsecret_env = "TEAM_SECRET"\n')
    line = _usage_line(_profile_run("--profile", "team"))
    assert "TEAM_SECRET" in line and "not set" in line
    assert emulator.hits == 0


def test_empty_environment_variable(emulator: LoopbackServer) -> None:
    _config(f'[profiles.team]\napi_url = "{emulator.url}"\nsecret_env = "TEAM_SECRET"\n')
    line = _usage_line(_profile_run("--profile", "team", env={"TEAM_SECRET": ""}))
    assert "TEAM_SECRET" in line


def test_no_configuration_file() -> None:
    line = _usage_line(_profile_run("--profile", "team"))
    assert "--profile team" in line and "config.toml" in line


@pytest.mark.parametrize(
    "text",
    [
        '[profiles.team]\napi_url = "http://127.0.0.1:1"\n',  # no secret_env
        '[profiles.team]\nsecret_env = "TEAM_SECRET"\n',  # no api_url
        "[profiles.team\n",  # not TOML
    ],
)
def test_broken_profiles(text: str) -> None:
    _config(text)
    _usage_line(_profile_run("--profile", "team", env={"TEAM_SECRET": SECRET}))


def test_resolve_remote_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_API_URL", "http://env.example")
    monkeypatch.setenv("STRATEGY_SECRET", "env-secret")
    flags = platform.resolve_remote("http://flag.example", "flag-secret", None)
    assert flags == platform.Remote("http://flag.example", "flag-secret", "--api-url")
    env = platform.resolve_remote(None, None, None)
    assert env == platform.Remote("http://env.example", "env-secret", "--api-url")
    monkeypatch.delenv("STRATEGY_API_URL")
    assert platform.resolve_remote(None, None, None) is None  # local mode
    with pytest.raises(UsageError):
        platform.resolve_remote(None, "a-secret", None)  # --secret alone
