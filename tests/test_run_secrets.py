"""No secret of a run reaches the store or the terminal.

The secrets: the strategy's secret (`${env:}`), an authorization client secret (`${env:}`) and the
bearer token the authorization server returns. The service echoes every request back (headers,
body, query) in its responses, fails some calls with the secrets in its error body, and one
method's URL holds a secret and times out (so the secret is in the error message). Then every
value of every table of the SQLite file, and everything the commands printed, is searched.
"""

from __future__ import annotations

import json
from pathlib import Path

from servers import RecordingServer, Reply, RunKit, Seen, env_vars, strategy_doc

STRATEGY_SECRET = "strat-secret-9f8e7d6c"
CLIENT_SECRET = "client-secret-5a4b3c2d"
TOKEN = "bearer-token-1q2w3e4r"
SECRETS = (STRATEGY_SECRET, CLIENT_SECRET, TOKEN)


def _echo(seen: Seen) -> Reply:
    return Reply(
        200,
        {"headers": seen.headers, "body": seen.json, "query": seen.query, "path": seen.path},
        headers={"X-Echo-Auth": seen.headers.get("authorization", "")},
    )


def _fail_echo(seen: Seen) -> Reply:
    return Reply(500, {"error": f"rejected {seen.headers.get('authorization')}", "got": seen.json})


def test_no_secret_in_the_store_or_the_output(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    routes = {
        "POST /token": Reply(200, {"access_token": TOKEN, "token_type": "bearer"}),
        "POST /echo": _echo,
        "POST /fail": _fail_echo,
        "POST /slow": Reply(200, {}, delay=2),
    }
    with RecordingServer(routes) as server:
        url = server.url
        service = {
            "authorization": [
                {
                    "environment": "local",
                    "url": server.url + "/token",
                    "method": "post",
                    "data": {"client_id": "me", "client_secret": "${env:RUN_CLIENT_SECRET}"},
                }
            ],
            "credentialPath": "access_token",
        }
        methods = [
            {"key": "echo", "url": "/echo", "method": "post"},
            {"key": "fail", "url": "/fail", "method": "post"},
            {"key": "slow", "url": "/slow?sig=${env:RUN_STRATEGY_SECRET}", "method": "post"},
        ]
        actions = [
            {
                "key": "echo",
                "service": "api",
                "method": "echo",
                "headers": {"Strategy-Secret": "${env:RUN_STRATEGY_SECRET}"},
                "params": {"client": "${env:RUN_CLIENT_SECRET}"},
                "data": {"id": "{{ attributes.id }}", "proof": "${env:RUN_STRATEGY_SECRET}"},
            },
            {
                "key": "fail",
                "service": "api",
                "method": "fail",
                "data": {"again": "x-${env:RUN_CLIENT_SECRET}-y"},
            },
            {"key": "slow", "service": "api", "method": "slow"},
        ]
        steps = [
            {"key": "echo", "action": "echo", "nextStep": "fail"},
            {"key": "fail", "action": "fail", "optional": True, "nextStep": "slow"},
            {"key": "slow", "action": "slow", "final": True},
        ]
        doc = strategy_doc(
            "secretive",
            server.url,
            steps=steps,
            methods=methods,
            actions=actions,
            service=service,
            secret="${env:RUN_STRATEGY_SECRET}",
        )
        sids = kit.create(doc, {"id": "a"}, {"id": "b"})

        outputs = []
        with env_vars(RUN_STRATEGY_SECRET=STRATEGY_SECRET, RUN_CLIENT_SECRET=CLIENT_SECRET):
            outputs.append(kit.run("--dry-run"))
            outputs.append(kit.run("--timeout", "0.5"))
            for sid in sids:
                outputs.append(
                    kit.cli("instance", "timeline", sid, "--db", str(kit.db), "-f", "json")
                )
                event = kit.event(sid)
                outputs.append(kit.cli("event", "show", event["sid"], "--db", str(kit.db)))
                outputs.append(
                    kit.cli("event", "show", event["sid"], "--db", str(kit.db), "-f", "json")
                )

    # the secrets were really used
    echoes = server.requests("/echo")
    assert len(echoes) == 2
    assert all(e.headers["authorization"] == f"Bearer {TOKEN}" for e in echoes)
    assert all(e.headers["strategy-secret"] == STRATEGY_SECRET for e in echoes)
    assert all(e.json["proof"] == STRATEGY_SECRET for e in echoes)
    assert all(e.query == {"client": [CLIENT_SECRET]} for e in echoes)
    assert server.requests("/token")[0].json["client_secret"] == CLIENT_SECRET
    assert all(s.query == {"sig": [STRATEGY_SECRET]} for s in server.requests("/slow"))
    # ... and the run did what it should
    for sid in sids:
        event = kit.event(sid)
        assert event["status"] == "FAILED"
        assert event["errorMessage"] == f"timed out calling {url}/slow?sig=***"
        echo = event["taskStatus"]["taskResults"][0]
        assert echo["httpData"]["request"]["headers"]["Authorization"] == "***"
        assert echo["data"]["body"]["proof"] == "***"
        assert echo["data"]["headers"]["authorization"] == "***"

    stored = kit.dump()
    assert "secretive" in stored and "rejected" in stored  # the search looks at real content
    for secret in SECRETS:
        assert secret not in stored, f"{secret} is stored"
        for r in outputs:
            assert secret not in r.text, f"{secret} was printed"
    assert all(r.code in (0, 1) for r in outputs), [r.text for r in outputs if r.code > 1]
    assert json.loads(outputs[2].out)  # the timeline printed real records
    # the store's files on disk (WAL included) do not hold them either
    for path in kit.folder.glob("store.db*"):
        raw = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in raw, f"{secret} in {path.name}"


def test_config_redact_names_extra_fields_and_headers(tmp_path: Path) -> None:
    kit = RunKit(tmp_path)
    with RecordingServer({"POST /hook": _echo}) as server:
        actions = [
            {
                "key": "hook",
                "service": "api",
                "method": "hook",
                "headers": {"X-Session": "sess-777"},
                "data": {"id": "{{ attributes.id }}", "card": {"cardNumber": "4111-1111"}},
            }
        ]
        doc = strategy_doc(
            "redacting", server.url, actions=actions, config={"redact": ["x-session", "CardNumber"]}
        )
        (sid,) = kit.create(doc, {"id": "a"})
        r = kit.run()

    assert r.code == 0, r.text
    (seen,) = server.requests("/hook")
    assert seen.headers["x-session"] == "sess-777"
    assert seen.json["card"] == {"cardNumber": "4111-1111"}
    (result,) = kit.event(sid)["taskStatus"]["taskResults"]
    assert result["httpData"]["request"]["headers"]["X-Session"] == "***"
    assert result["httpData"]["request"]["body"] == {"id": "a", "card": {"cardNumber": "***"}}
    assert result["data"]["headers"]["x-session"] == "***"  # the echo, by name too
    assert result["data"]["body"]["card"] == {"cardNumber": "***"}
    events = " ".join(r[0] for r in kit.rows("SELECT record FROM events"))
    assert "sess-777" not in events and "4111-1111" not in events  # (the strategy holds them)
