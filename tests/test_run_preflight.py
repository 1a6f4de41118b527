"""A typo must not destroy state (issue 11, section 2).

`strategy run` checks `--env` and the `${env:NAME}` variables the due events need before it
claims anything; an attempt that fails before its request leaves the client is a configuration
error: the event stays due, no retry is used, the instance goes on. Every test drives the real
CLI against a real store file and a real HTTP server on 127.0.0.1 that counts what it receives.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from servers import Clock, RecordingServer, Reply, RunKit, env_vars, secret_shapes, strategy_doc

TOKEN_SECRET = "tok-3e4r5t6y-secret"


@pytest.fixture(autouse=True)
def _unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PF_TOKEN", "PF_KEY", "PF_BASE", "PF_CLIENT"):
        monkeypatch.delenv(name, raising=False)


def _two_envs(server: RecordingServer, **service: Any) -> dict[str, Any]:
    return {
        "baseUrls": [
            {"environment": "local", "url": server.url},
            {"environment": "sandbox", "url": server.url},
        ],
        **service,
    }


def _billing(server: RecordingServer) -> dict[str, Any]:
    """A strategy whose service authorizes with a variable and whose action sends another."""
    auth = {
        "environment": "sandbox",
        "url": server.url + "/token",
        "method": "post",
        "headers": {"X-Token": "${env:PF_TOKEN}"},
    }
    actions = [
        {
            "key": "hook",
            "service": "api",
            "method": "hook",
            "headers": {"X-Api-Key": "${env:PF_KEY}"},
            "data": {"id": "{{ attributes.id }}"},
        }
    ]
    service = _two_envs(server, authorization=[auth])
    return strategy_doc("billing", server.url, service=service, actions=actions)


def _state(kit: RunKit) -> str:
    """Everything the store holds, to compare before and after."""
    return kit.dump()


@pytest.mark.parametrize("extra", [(), ("--dry-run",), ("--format", "json")])
def test_unknown_env_is_a_usage_error_that_changes_nothing(
    kit: RunKit, server: RecordingServer, extra: tuple[str, ...]
) -> None:
    kit.create(strategy_doc("typo", server.url, service=_two_envs(server)), {"id": "a"})
    before = _state(kit)

    r = kit.run("--env", "sandox", *extra)

    assert r.code == 2, r.text
    (line,) = r.err.strip().splitlines()
    assert "--env sandox" in line and "known: local, sandbox" in line
    assert "did you mean 'sandbox'?" in line
    assert server.requests() == [] and _state(kit) == before


def test_env_that_one_called_service_lacks_names_that_service(
    kit: RunKit, server: RecordingServer
) -> None:
    extra = {"key": "ledger", "baseUrls": [{"environment": "local", "url": server.url}]}
    extra["methods"] = [{"key": "book", "url": "/book", "method": "post"}]
    steps = [
        {"key": "call", "action": "hook", "nextStep": "book"},
        {"key": "book", "action": "book"},
    ]
    actions = [
        {"key": "hook", "service": "api", "method": "hook"},
        {"key": "book", "service": "ledger", "method": "book"},
    ]
    doc = strategy_doc(
        "split", server.url, service=_two_envs(server), extra_services=[extra],
        steps=steps, actions=actions,
    )  # fmt: skip
    kit.create(doc, {"id": "a"})
    before = _state(kit)

    r = kit.run("--env", "sandbox")

    assert r.code == 2, r.text
    assert "service 'ledger' of strategy 'split' has no base URL for it" in r.err
    assert server.requests() == [] and _state(kit) == before


@pytest.mark.parametrize("extra", [(), ("--dry-run",), ("--concurrency", "1")])
def test_unset_variable_names_it_and_its_field_and_claims_nothing(
    kit: RunKit, server: RecordingServer, extra: tuple[str, ...]
) -> None:
    a, b = kit.create(_billing(server), {"id": "a"}, {"id": "b"})
    before = _state(kit)

    with env_vars(PF_KEY="key-1234"):
        r = kit.run("--env", "sandbox", *extra)

    assert r.code == 1, r.text
    (line,) = r.err.strip().splitlines()[:1]
    assert "environment variable PF_TOKEN" in line
    assert "settings.services[0].authorization[0].headers.X-Token" in line
    assert "strategy 'billing'" in line and "not set" in line
    assert server.requests() == [] and _state(kit) == before
    for sid in (a, b):
        event = kit.event(sid)
        assert (event["status"], event["attempt"], event["_history"]) == ("PENDING", 0, [])
        assert kit.instance(sid)["status"] == "ACTIVE"


def test_every_unset_variable_is_named(kit: RunKit, server: RecordingServer) -> None:
    kit.create(_billing(server), {"id": "a"})

    r = kit.run("--env", "sandbox")

    assert r.code == 1, r.text
    assert (
        "variables PF_TOKEN" in r.err and "PF_KEY (needed by settings.actions[0].headers" in r.err
    )
    assert server.requests() == []


def test_a_variable_of_another_environment_is_not_needed(
    kit: RunKit, server: RecordingServer
) -> None:
    """The authorization entry of `sandbox` is not used with `--env local`."""
    kit.create(_billing(server), {"id": "a"})

    with env_vars(PF_KEY="key-1234"):
        r = kit.run("--env", "local")

    assert r.code == 0, r.text
    assert len(server.requests("/hook")) == 1


def test_watch_checks_before_each_tick_claims(
    kit: RunKit, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    start = (clock.now + timedelta(hours=1)).isoformat()
    (sid,) = kit.create(_billing(server), {"id": "a"}, start=start)
    before = _state(kit)
    seen_while_watching: list[int] = []
    finished = threading.Event()

    def later() -> None:
        time.sleep(0.5)
        seen_while_watching.append(len(server.requests()))
        clock.now += timedelta(hours=2)  # now the event is due, and PF_TOKEN is still not set
        if not finished.wait(20):  # a safety net: a watch that never stops is interrupted
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=later, daemon=True).start()
    try:
        r = kit.run("--env", "sandbox", "--watch", "--interval", "0.05")
    finally:
        finished.set()

    assert seen_while_watching == [0]
    assert r.code == 1, r.text
    assert "PF_TOKEN" in r.err
    assert server.requests() == [] and _state(kit) == before
    assert kit.event(sid)["status"] == "PENDING"


def _reference_doc(server: RecordingServer) -> dict[str, Any]:
    """Step `pay` is sent; step `note` needs an attribute that instance `b` lacks."""
    steps = [
        {"key": "pay", "action": "pay", "nextStep": "note"},
        {"key": "note", "action": "note", "final": True, "optional": True},
    ]
    methods = [{"key": k, "url": f"/{k}", "method": "post"} for k in ("pay", "note")]
    actions = [
        {"key": "pay", "service": "api", "method": "pay", "data": {"id": "{{ attributes.id }}"}},
        {"key": "note", "service": "api", "method": "note", "data": {"n": "{{ attributes.note }}"}},
    ]
    return strategy_doc(
        "refs", server.url, steps=steps, methods=methods, actions=actions,
        task={"retryConfig": {"times": 0}},
    )  # fmt: skip


def test_configuration_error_keeps_the_event_due_and_uses_no_retry(
    kit: RunKit, server: RecordingServer
) -> None:
    ok, bad = kit.create(_reference_doc(server), {"id": "a", "note": "n"}, {"id": "b"})
    due = kit.event(bad)["date"]
    before = _state(kit)

    dry = kit.run("--dry-run")  # shows where a run would stop, and changes nothing
    assert dry.code == 1 and "  configuration error: reference" in dry.out, dry.text
    assert server.requests() == [] and _state(kit) == before

    r = kit.run("--concurrency", "1")

    assert r.code == 1, r.text
    assert "1 processed, 1 configuration error" in r.out
    assert f"event {kit.event(bad)['sid']} (task work): configuration error: " in r.err
    assert "attributes.note" in r.err and "no retry was used" in r.err
    event = kit.event(bad)
    assert (event["status"], event["attempt"], event["date"]) == ("PENDING", 0, due)
    assert event["errorMessage"].startswith("configuration error: reference")
    assert kit.instance(bad)["status"] == "ACTIVE" and kit.event(ok)["status"] == "PROCESSED"
    assert sorted(s.json["id"] for s in server.requests("/pay")) == ["a", "b"]

    # Run again: the same mistake, still nothing used up; `pay` is not sent a second time.
    r = kit.run("--format", "json")
    assert r.code == 1, r.text
    report = json.loads(r.out)
    assert report["outcomes"]["configuration-error"] == 1
    (entry,) = report["events"]
    assert entry["outcome"] == "configuration-error" and entry["status"] == "PENDING"
    assert entry["attempt"] == 0 and entry["errorMessage"] == event["errorMessage"]
    event = kit.event(bad)
    assert event["attempt"] == 0 and [h["outcome"] for h in event["_history"]] == [
        "configuration-error"
    ]
    assert len(server.requests("/pay")) == 2
    results = event["taskStatus"]["taskResults"]
    assert [(x["step"], x["success"], x["fromCache"]) for x in results] == [
        ("pay", True, True),
        ("note", False, False),
    ]


def test_a_fixed_configuration_error_runs_on_from_where_it_stopped(
    kit: RunKit, server: RecordingServer
) -> None:
    """The steps that were sent before the configuration error are reused, not sent again."""
    steps = [
        {"key": "pay", "action": "pay", "nextStep": "note"},
        {"key": "note", "action": "note", "final": True},
    ]
    methods = [{"key": k, "url": f"/{k}", "method": "post"} for k in ("pay", "note")]
    actions = [
        {"key": "pay", "service": "api", "method": "pay"},
        {"key": "note", "service": "api", "method": "note", "headers": {"X-T": "${env:PF_TOKEN}"}},
    ]
    doc = strategy_doc("resume", server.url, steps=steps, methods=methods, actions=actions)
    (sid,) = kit.create(doc, {"id": "a"})

    with env_vars(PF_TOKEN="line\nbreak-value"):
        assert kit.run().code == 1
    with env_vars(PF_TOKEN="fixed-value"):
        r = kit.run()

    assert r.code == 0 and "1 processed" in r.out, r.text
    assert len(server.requests("/pay")) == 1 and len(server.requests("/note")) == 1
    event = kit.event(sid)
    assert event["status"] == "PROCESSED" and event["attempt"] == 1
    assert [h["outcome"] for h in event["_history"]] == ["configuration-error", "processed"]


def _unsendable_doc(server: RecordingServer) -> dict[str, Any]:
    """Instance `a` sends a header with a line break; strategy 2's base URL cannot be parsed."""
    actions = [
        {
            "key": "hook",
            "service": "api",
            "method": "hook",
            "headers": {"X-Token": "${env:PF_TOKEN}"},
        }
    ]
    return strategy_doc("crlf", server.url, actions=actions, task={"retryConfig": {"times": 3}})


@pytest.mark.parametrize(
    "secret", [TOKEN_SECRET + "\r\n", TOKEN_SECRET + "\n", "a\r\nb" + TOKEN_SECRET]
)
def test_a_value_that_cannot_be_sent_names_the_field_never_the_value(
    kit: RunKit, server: RecordingServer, secret: str
) -> None:
    (a,) = kit.create(_unsendable_doc(server), {"id": "a"})
    broken = strategy_doc("ipv6", "${env:PF_BASE}", task={"retryConfig": {"times": 3}})
    (b,) = kit.create(broken, {"id": "b"})

    with env_vars(PF_TOKEN=secret, PF_BASE=f"http://u:{TOKEN_SECRET}@[::1"):
        outputs = [
            kit.run(),
            kit.run("--format", "json"),
            kit.cli("--debug", "run", "--db", str(kit.db)),
        ]

    assert [r.code for r in outputs] == [1, 1, 1], [r.text for r in outputs]
    assert server.requests() == []
    header = kit.event(a)
    assert header["errorMessage"] == (
        "configuration error: header 'X-Token' of action 'hook' cannot be sent: "
        "its value contains a line break (CR or LF)"
    )
    url = kit.event(b)
    assert url["errorMessage"].startswith("configuration error: the URL of action 'hook' cannot")
    for event in (header, url):
        assert (event["status"], event["attempt"]) == ("PENDING", 0)
    assert kit.instance(a)["status"] == kit.instance(b)["status"] == "ACTIVE"
    stored = kit.dump() + kit.db.read_bytes().decode("latin-1")
    wal = kit.folder / "store.db-wal"
    if wal.exists():
        stored += wal.read_bytes().decode("latin-1")
    for form in secret_shapes(secret) | secret_shapes(TOKEN_SECRET):
        assert form not in stored, form
        for r in outputs:
            assert form not in r.out and form not in r.err, form


def test_an_authorization_that_cannot_be_sent_is_a_configuration_error(
    kit: RunKit, server: RecordingServer
) -> None:
    server.route("POST /token", Reply(200, {"access_token": "t-1234"}))
    auth = {
        "environment": "local", "url": server.url + "/token", "method": "post",
        "headers": {"X-Client": "${env:PF_CLIENT}"},
    }  # fmt: skip
    (sid,) = kit.create(
        strategy_doc("auth", server.url, service={"authorization": [auth]}), {"id": "a"}
    )

    with env_vars(PF_CLIENT=" padded"):
        r = kit.run()

    assert r.code == 1, r.text
    assert kit.event(sid)["errorMessage"] == (
        "configuration error: header 'X-Client' of the authorization request of service 'api' "
        "cannot be sent: its value begins or ends with a space or a tab"
    )
    assert server.requests() == []


def test_a_delivery_failure_still_uses_retries(kit: RunKit, server: RecordingServer) -> None:
    """The other side of the line: a request that left and failed is retried as before."""
    server.route("POST /hook", Reply(503, {}))
    doc = strategy_doc(
        "down",
        server.url,
        task={"retryConfig": {"times": 1, "retryAfter": {"unit": "hours", "amount": 1}}},
    )
    (sid,) = kit.create(doc, {"id": "a"})

    r = kit.run("--format", "json")

    assert r.code == 0, r.text
    assert json.loads(r.out)["events"][0]["outcome"] == "retried"
    assert kit.event(sid)["attempt"] == 1


def test_a_configuration_error_after_an_async_resume_resumes_again(
    kit: RunKit, server: RecordingServer
) -> None:
    """The acknowledged step is not sent again; the resumed flow starts again where it waited."""
    steps = [
        {"key": "start", "action": "start", "nextStep": "finish"},
        {"key": "finish", "action": "finish", "final": True},
    ]
    methods = [
        {"key": "start", "url": "/start", "method": "post", "async": True},
        {"key": "finish", "url": "/finish", "method": "post"},
    ]
    actions = [
        {"key": "start", "service": "api", "method": "start"},
        {"key": "finish", "service": "api", "method": "finish", "headers": {"X-T": "${env:PF_TOKEN}"}},
    ]  # fmt: skip
    doc = strategy_doc("async", server.url, steps=steps, methods=methods, actions=actions)
    (sid,) = kit.create(doc, {"id": "a"})
    with env_vars(PF_TOKEN="good-value"):
        assert kit.run().code == 0
    event = kit.event(sid)
    assert event["status"] == "ONHOLD"
    resumed = kit.cli("event", "resume", event["sid"], "--data", "{}", "--db", str(kit.db))
    assert resumed.code == 0, resumed.text

    with env_vars(PF_TOKEN="bad\rvalue"):
        assert kit.run().code == 1
    held = kit.event(sid)
    assert (held["status"], held["attempt"]) == ("PENDING", 1)
    assert held["taskStatus"] == event["taskStatus"]  # as it was when it waited
    with env_vars(PF_TOKEN="good-value"):
        r = kit.run()

    assert r.code == 0 and "1 processed" in r.out, r.text
    assert len(server.requests("/start")) == 1 and len(server.requests("/finish")) == 1
    assert kit.event(sid)["status"] == "PROCESSED"


def test_a_body_failing_request_validation_is_a_configuration_error(
    kit: RunKit, server: RecordingServer
) -> None:
    schema = json.dumps({"properties": {"amount": {"type": "uint32"}}})
    methods = [{"key": "hook", "url": "/hook", "method": "post", "requestValidation": schema}]
    (sid,) = kit.create(strategy_doc("checked", server.url, methods=methods), {"id": "a"})

    r = kit.run()

    assert r.code == 1, r.text
    event = kit.event(sid)
    assert (event["status"], event["attempt"]) == ("PENDING", 0)
    assert event["errorMessage"].startswith("configuration error: request body fails")
    assert server.requests() == [] and kit.instance(sid)["status"] == "ACTIVE"


def test_a_credential_that_cannot_be_sent_is_the_services_failure(
    kit: RunKit, server: RecordingServer
) -> None:
    """The token request left and came back unusable: a delivery failure, retried as declared."""
    server.route("POST /token", Reply(200, {"access_token": TOKEN_SECRET + "\r\n"}))
    auth = {"environment": "local", "url": server.url + "/token", "method": "post"}
    retry = {"times": 1, "retryAfter": {"unit": "hours", "amount": 1}}
    doc = strategy_doc(
        "tok", server.url, service={"authorization": [auth]}, task={"retryConfig": retry}
    )
    (sid,) = kit.create(doc, {"id": "a"})

    r = kit.run()

    assert r.code == 0 and "1 retried" in r.out, r.text
    event = kit.event(sid)
    assert event["attempt"] == 1 and "cannot be sent in a header" in event["errorMessage"]
    assert server.requests("/hook") == []
    for form in secret_shapes(TOKEN_SECRET + "\r\n"):
        assert form not in kit.dump() and form not in r.text


def test_the_timeline_shows_a_configuration_error_as_no_attempt(
    kit: RunKit, server: RecordingServer
) -> None:
    (_, bad) = kit.create(_reference_doc(server), {"id": "a", "note": "n"}, {"id": "b"})
    assert kit.run().code == 1

    r = kit.cli("instance", "timeline", bad, "--db", str(kit.db))

    assert r.code == 0, r.text
    lines = r.out.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "configuration error" in line]
    # The "not sent" row, then its message on a line of its own.
    assert lines[at - 1].lstrip().startswith("↳") and "not sent" in lines[at - 1], r.out
    assert "reference" in lines[at] and "FAILED" not in lines[at - 1], r.out
