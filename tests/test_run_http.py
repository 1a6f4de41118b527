"""`strategy run` against a real HTTP server on 127.0.0.1: outcomes of service calls, headers,
authorization, pacing, `${env:}` values, --dry-run and --env."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from servers import RecordingServer, Reply, RunKit, env_vars, free_port, strategy_doc


def test_success_stores_request_response_and_ends_the_schedule(
    kit: RunKit, server: RecordingServer
) -> None:
    server.route("POST /hook", Reply(200, {"ok": True, "ref": "r-1"}))
    a, b = kit.create(strategy_doc("ok", server.url), {"id": "a"}, {"id": "b"})

    r = kit.run()

    assert r.code == 0, r.text
    assert "2 processed" in r.out
    assert sorted(s.json["id"] for s in server.requests("/hook")) == ["a", "b"]
    for sid in (a, b):
        event = kit.event(sid)
        assert event["status"] == "PROCESSED"
        assert event["attempt"] == 1
        assert event["finishedAt"] and event["executionTime"] >= 0
        (result,) = event["taskStatus"]["taskResults"]
        assert result["success"] is True and result["fromCache"] is False
        assert result["data"] == {"ok": True, "ref": "r-1"}
        assert result["httpData"]["response"]["status"] == 200
        assert result["httpData"]["request"]["method"] == "POST"
        assert result["httpData"]["request"]["url"] == server.url + "/hook"
        assert result["correlationId"] == event["correlationId"]
        assert "_leaseUntil" not in event
    # a second run finds nothing due and sends nothing
    again = kit.run()
    assert again.code == 0 and "0 attempt" in again.out
    assert len(server.requests()) == 2


def test_every_request_carries_correlation_id_and_idempotency_key(
    kit: RunKit, server: RecordingServer
) -> None:
    steps = [
        {"key": "first", "action": "hook", "nextStep": "second"},
        {"key": "second", "action": "hook", "final": True},
    ]
    sids = kit.create(strategy_doc("hdr", server.url, steps=steps), {"id": "a"}, {"id": "b"})

    assert kit.run("--concurrency", "2").code == 0

    seen = {(s.headers["x-correlation-id"], s.key) for s in server.requests("/hook")}
    expected = set()
    for sid in sids:
        event = kit.event(sid)
        for step in ("first", "second"):
            expected.add((event["correlationId"], f"{event['sid']}:{step}:1"))
    assert seen == expected and len(server.requests("/hook")) == 4


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_error_status_fails_the_main_event_and_cancels_the_instance(
    kit: RunKit, server: RecordingServer, status: int
) -> None:
    server.route("POST /hook", Reply(status, {"error": "nope"}))
    (sid,) = kit.create(strategy_doc("err", server.url), {"id": "a"})

    r = kit.run()

    assert r.code == 1, r.text
    assert "1 failed" in r.out
    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == f"HTTP {status} from {server.url}/hook"
    (result,) = event["taskStatus"]["taskResults"]
    assert result["success"] is False
    assert result["httpData"]["response"]["status"] == status
    assert result["data"] == {"error": "nope"}
    instance = kit.instance(sid)
    assert instance["status"] == "CANCELED" and instance["cancelReason"] == "MAX_ATTEMPTS"


def test_timeout_fails_the_step(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", Reply(200, {"ok": True}, delay=3))
    (sid,) = kit.create(strategy_doc("slow", server.url), {"id": "a"})

    started = time.monotonic()
    r = kit.run("--timeout", "0.5")
    elapsed = time.monotonic() - started

    assert r.code == 1, r.text
    assert elapsed < 2.5
    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == f"timed out calling {server.url}/hook"
    (result,) = event["taskStatus"]["taskResults"]
    assert result["httpData"]["response"] == {"error": "ReadTimeout"}


def test_connection_refused_fails_the_step(kit: RunKit) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    (sid,) = kit.create(strategy_doc("refused", url), {"id": "a"})

    r = kit.run()

    assert r.code == 1, r.text
    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"].startswith(f"cannot connect to {url}/hook")


def test_invalid_json_fails_only_where_the_response_is_validated(
    kit: RunKit, server: RecordingServer
) -> None:
    server.route("POST /hook", Reply(200, '{"accountId": "a-1"', raw=True))
    server.route("POST /checked", Reply(200, '{"accountId": "a-1"', raw=True))
    methods = [
        {"key": "hook", "url": "/hook", "method": "post"},
        {
            "key": "checked",
            "url": "/checked",
            "method": "post",
            "responseValidation": {"properties": {"accountId": {"type": "string"}}},
        },
    ]
    actions = [
        {"key": "hook", "service": "api", "method": "hook"},
        {"key": "checked", "service": "api", "method": "checked"},
    ]
    plain = strategy_doc("plain-json", server.url, methods=methods, actions=actions)
    checked = strategy_doc(
        "checked-json",
        server.url,
        methods=methods,
        actions=actions,
        steps=[{"key": "call", "action": "checked", "final": True}],
    )
    (p,) = kit.create(plain, {"id": "a"})
    (c,) = kit.create(checked, {"id": "b"})

    assert kit.run().code == 1

    unvalidated = kit.event(p)
    assert unvalidated["status"] == "PROCESSED"  # no responseValidation: the text is the data
    assert unvalidated["taskStatus"]["taskResults"][0]["data"] == '{"accountId": "a-1"'
    validated = kit.event(c)
    assert validated["status"] == "FAILED"
    assert validated["errorMessage"] == "response is not JSON (responseValidation needs JSON)"


@pytest.mark.parametrize(
    ("body", "ok"),
    [({"accountId": "a-1"}, True), ({"accountId": 7}, False), ({"other": "x"}, False)],
)
def test_response_validation(kit: RunKit, server: RecordingServer, body: object, ok: bool) -> None:
    server.route("POST /hook", Reply(201, body))
    methods = [
        {
            "key": "hook",
            "url": "/hook",
            "method": "post",
            "responseValidation": {
                "properties": {"accountId": {"type": "string"}},
                "additionalProperties": True,
            },
        }
    ]
    (sid,) = kit.create(strategy_doc("valid", server.url, methods=methods), {"id": "a"})

    r = kit.run()

    event = kit.event(sid)
    if ok:
        assert r.code == 0 and event["status"] == "PROCESSED"
    else:
        assert r.code == 1 and event["status"] == "FAILED"
        assert event["errorMessage"].startswith("response fails responseValidation:")
        assert event["taskStatus"]["taskResults"][0]["data"] == body


def _auth_service(server: RecordingServer, *, no_cache: bool = False) -> dict[str, object]:
    auth: dict[str, object] = {
        "environment": "local",
        "url": server.url + "/token",
        "method": "post",
        "data": {"client_id": "runner", "client_secret": "${env:RUN_TEST_CLIENT_SECRET}"},
        "credentialPath": "data.token",
        "credentialType": "Token",
    }
    if no_cache:
        auth["noCache"] = True
    return {"authorization": [auth]}


@pytest.mark.parametrize("no_cache", [False, True])
def test_authorization_token_is_fetched_once_per_run_unless_no_cache(
    kit: RunKit, server: RecordingServer, no_cache: bool
) -> None:
    tokens = iter(f"tok-{i}" for i in range(100))
    server.route("POST /token", lambda seen: Reply(200, {"data": {"token": next(tokens)}}))
    steps = [
        {"key": "first", "action": "hook", "nextStep": "second"},
        {"key": "second", "action": "hook", "final": True},
    ]
    doc = strategy_doc(
        "auth", server.url, steps=steps, service=_auth_service(server, no_cache=no_cache)
    )
    kit.create(doc, {"id": "a"}, {"id": "b"}, {"id": "c"})

    with env_vars(RUN_TEST_CLIENT_SECRET="cs-very-secret"):
        r = kit.run("--concurrency", "3")

    assert r.code == 0, r.text
    token_calls = server.requests("/token")
    hooks = server.requests("/hook")
    assert len(hooks) == 6
    assert all(
        t.json == {"client_id": "runner", "client_secret": "cs-very-secret"} for t in token_calls
    )
    if no_cache:
        assert len(token_calls) == 6
        assert sorted(h.headers["authorization"] for h in hooks) == sorted(
            f"Token tok-{i}" for i in range(6)
        )
    else:
        assert len(token_calls) == 1
        assert {h.headers["authorization"] for h in hooks} == {"Token tok-0"}
    # a new run fetches a new token
    kit.create(doc, {"id": "d"})
    with env_vars(RUN_TEST_CLIENT_SECRET="cs-very-secret"):
        assert kit.run().code == 0
    assert len(server.requests("/token")) == (8 if no_cache else 2)


def test_authorization_failure_fails_the_step(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /token", Reply(401, {"error": "bad client"}))
    doc = strategy_doc("auth-fail", server.url, service=_auth_service(server))
    (sid,) = kit.create(doc, {"id": "a"})

    with env_vars(RUN_TEST_CLIENT_SECRET="cs-very-secret"):
        r = kit.run()

    assert r.code == 1
    assert kit.event(sid)["errorMessage"] == "authorization for 'api' answered HTTP 401"
    assert server.requests("/hook") == []


def test_request_delay_time_spaces_the_calls(kit: RunKit, server: RecordingServer) -> None:
    doc = strategy_doc("paced", server.url, config={"requestDelayTime": 300})
    kit.create(doc, *({"id": str(i)} for i in range(4)))

    started = time.monotonic()
    r = kit.run("--concurrency", "4")

    assert r.code == 0, r.text
    arrivals = sorted(s.at for s in server.requests("/hook"))
    assert len(arrivals) == 4
    assert arrivals[0] - started >= 0.25  # the first call waits too
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.28, gaps


def test_env_references_resolve_at_run_time(kit: RunKit, server: RecordingServer) -> None:
    actions = [
        {
            "key": "hook",
            "service": "api",
            "method": "hook",
            "headers": {"X-Api-Key": "${env:RUN_TEST_API_KEY}"},
            "params": {"tenant": "${env:RUN_TEST_TENANT}"},
            "data": {"id": "{{ attributes.id }}", "sig": "k=${env:RUN_TEST_API_KEY}"},
        }
    ]
    doc = strategy_doc("env", server.url, actions=actions)
    (sid,) = kit.create(doc, {"id": "a"})

    with env_vars(RUN_TEST_API_KEY="key-abc-123", RUN_TEST_TENANT="tenant-42"):
        r = kit.run()

    assert r.code == 0, r.text
    (seen,) = server.requests("/hook")
    assert seen.headers["x-api-key"] == "key-abc-123"
    assert seen.query == {"tenant": ["tenant-42"]}
    assert seen.json == {"id": "a", "sig": "k=key-abc-123"}
    stored = json.dumps(kit.event(sid))
    assert "key-abc-123" not in stored and "tenant-42" not in stored


def test_env_references_inside_attributes_are_not_expanded(
    kit: RunKit, server: RecordingServer
) -> None:
    """Only the strategy's own strings may name environment variables: instance data that
    looks like a reference is sent as it is (no leak of the runner's environment)."""
    kit.create(strategy_doc("inject", server.url), {"id": "${env:RUN_TEST_API_KEY}"})

    with env_vars(RUN_TEST_API_KEY="key-abc-123"):
        assert kit.run().code == 0

    (seen,) = server.requests("/hook")
    assert seen.json == {"id": "${env:RUN_TEST_API_KEY}"}


def test_dry_run_sends_nothing_and_changes_nothing(kit: RunKit, server: RecordingServer) -> None:
    doc = strategy_doc("dry", server.url, service=_auth_service(server))
    kit.create(doc, {"id": "a"}, {"id": "b"})
    before = kit.dump()

    with env_vars(RUN_TEST_CLIENT_SECRET="cs-very-secret"):
        r = kit.run("--dry-run")

    assert r.code == 0, r.text
    assert server.requests() == []
    assert kit.dump() == before
    assert r.out.count(f"POST {server.url}/hook") == 2
    assert '{"id": "a"}' in r.out and '{"id": "b"}' in r.out
    assert "nothing was sent or changed" in r.out
    assert "cs-very-secret" not in r.text


def test_env_is_required_when_a_service_has_several_environments(
    kit: RunKit, server: RecordingServer
) -> None:
    service = {
        "baseUrls": [
            {"environment": "local", "url": server.url},
            {"environment": "other", "url": f"http://127.0.0.1:{free_port()}"},
        ]
    }
    (sid,) = kit.create(strategy_doc("multi", server.url, service=service), {"id": "a"})

    for args in ((), ("--dry-run",)):
        r = kit.run(*args)
        assert r.code == 2, r.text
        assert "--env" in r.err and "local, other" in r.err
    assert server.requests() == []
    assert kit.event(sid)["status"] == "PENDING"

    r = kit.run("--env", "local")
    assert r.code == 0, r.text
    assert len(server.requests("/hook")) == 1


def test_instance_option_runs_only_that_instance(kit: RunKit, server: RecordingServer) -> None:
    a, b = kit.create(strategy_doc("only", server.url), {"id": "a"}, {"id": "b"})

    r = kit.run("--instance", a[:8])

    assert r.code == 0 and "1 processed" in r.out, r.text
    assert [s.json["id"] for s in server.requests()] == ["a"]
    assert kit.event(a)["status"] == "PROCESSED"
    assert kit.event(b)["status"] == "PENDING"
