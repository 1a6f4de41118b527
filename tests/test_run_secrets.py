"""No secret of a run reaches the store or the terminal.

The secrets: the strategy's secret (`${env:}`), an authorization client secret (`${env:}`) and the
bearer token the authorization server returns. The service echoes every request back (headers,
body, query) in its responses, fails some calls with the secrets in its error body, and one
method's URL holds a secret and times out (so the secret is in the error message). Then every
value of every table of the SQLite file, and everything the commands printed, is searched.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from servers import RecordingServer, Reply, RunKit, Seen, env_vars, secret_shapes, strategy_doc

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


# --- every shape of every secret, after runs that fail in every way we can cause -----------------

CR_SECRET = "cr-secret-7h6g5f4d\r"  # a trailing CR: httpx refuses the header and quotes it
LF_SECRET = "lf-secret-3e2d1c0b\n"
SPECIAL = 'sp"ec/ial+pass word&\u00e9\\x-9z8y'  # differs in every encoding
ENV_SECRETS = (CR_SECRET, LF_SECRET, SPECIAL, STRATEGY_SECRET, CLIENT_SECRET, TOKEN)
# Literal in the strategy file (so the strategy record keeps them): never in events or output.
URL_PASS, URL_TOKEN, URL_KEY = "urlpass-8k7j6h5g", "qtoken-2w3e4r5t", "qkey-5t6y7u8i"
GONE_PASS, GONE_TOKEN = "gonepass-1a2b3c4d", "gonetoken-4d5e6f7g"
COOKIE, HEADER_TOKEN = "cookietoken-9o8i7u6y", "hdrtoken-6y5t4r3e"
LITERALS = (URL_PASS, URL_TOKEN, URL_KEY, GONE_PASS, GONE_TOKEN, COOKIE, HEADER_TOKEN)


def _mirror(seen: Seen) -> Reply:
    """Echoes the secret it was sent in every encoding, as text."""
    from urllib.parse import quote, quote_plus

    got = seen.json["s"]
    text = " | ".join(
        [quote(got), quote(got, safe=""), quote_plus(got), json.dumps(got), got.strip()]
    )
    return Reply(200, text, raw=True)


def _hostile_strategy(url: str, closed: str) -> dict[str, Any]:
    host = url.removeprefix("http://")
    service = {
        "authorization": [
            {
                "environment": "local",
                "url": url + "/token",
                "method": "post",
                "data": {"client_secret": "${env:RUN_CLIENT_SECRET}"},
            }
        ]
    }
    methods = [
        {"key": m, "url": f"/{m}", "method": "post"} for m in ("echo", "mirror", "cookie", "crlf")
    ] + [{"key": "slow", "url": "/slow?sig=${env:RUN_STRATEGY_SECRET}", "method": "post"}]
    gone = f"http://user:{GONE_PASS}@{closed.removeprefix('http://')}/x?access_token={GONE_TOKEN}"
    cred = {
        "key": "cred",
        "baseUrls": [{"environment": "local", "url": f"http://user:{URL_PASS}@{host}"}],
        "methods": [
            {"key": "deny", "url": f"/deny?token={URL_TOKEN}&api_key={URL_KEY}", "method": "get"},
            {"key": "gone", "url": gone, "method": "get"},  # nothing listens there
        ],
    }
    header = {"X-Proof": "${env:RUN_STRATEGY_SECRET}"}
    actions = [
        {"key": "echo", "service": "api", "method": "echo", "headers": header,
         "data": {"s": "${env:RUN_SPECIAL}", "lf": "${env:RUN_LF_SECRET}"}},
        {"key": "mirror", "service": "api", "method": "mirror", "data": {"s": "${env:RUN_SPECIAL}"}},
        {"key": "cookie", "service": "api", "method": "cookie"},
        {"key": "deny", "service": "cred", "method": "deny"},
        {"key": "gone", "service": "cred", "method": "gone"},
        {"key": "slow", "service": "api", "method": "slow"},
        # Last: a header that cannot be sent ends the attempt as a configuration error.
        {"key": "cr", "service": "api", "method": "crlf",
         "headers": {"X-Cr": "${env:RUN_CR}", "X-Lf": "${env:RUN_LF_SECRET}"}},
    ]  # fmt: skip
    order = [a["key"] for a in actions]
    steps = [
        {"key": k, "action": k, "optional": True, "nextStep": n}
        for k, n in itertools.pairwise(order)
    ] + [{"key": "cr", "action": "cr", "final": True}]
    return strategy_doc(
        "hostile", url, steps=steps, methods=methods, actions=actions, service=service,
        extra_services=[cred], secret="${env:RUN_STRATEGY_SECRET}",
    )  # fmt: skip


def test_no_shape_of_any_secret_leaves_after_every_kind_of_failure(tmp_path: Path) -> None:
    import sqlite3

    from servers import free_port

    kit = RunKit(tmp_path)
    routes = {
        "POST /token": Reply(200, {"access_token": TOKEN}),
        "POST /echo": _echo,
        "POST /mirror": _mirror,
        "POST /cookie": Reply(
            200,
            {},
            headers={"Set-Cookie": f"session={COOKIE}; HttpOnly", "X-Auth-Token": HEADER_TOKEN},
        ),
        "GET /deny": Reply(401, {"error": "who are you"}),
        "POST /slow": Reply(200, {}, delay=2),
    }
    with RecordingServer(routes) as server:
        doc = _hostile_strategy(server.url, f"http://127.0.0.1:{free_port()}")
        a, b = kit.create(doc, {"id": "a"}, {"id": "b"})
        secrets = {
            "RUN_STRATEGY_SECRET": STRATEGY_SECRET, "RUN_CLIENT_SECRET": CLIENT_SECRET,
            "RUN_CR": CR_SECRET, "RUN_LF_SECRET": LF_SECRET, "RUN_SPECIAL": SPECIAL,
        }  # fmt: skip
        reader = sqlite3.connect(kit.db)  # held open: the WAL file stays for the search
        reader.execute("SELECT count(*) FROM events").fetchall()
        try:
            with env_vars(**secrets):
                outputs = [
                    kit.run("--dry-run"),
                    kit.cli("--debug", "run", "--dry-run", "--db", str(kit.db)),
                ]
                outputs.append(kit.run("--timeout", "0.5", "--instance", a))
                outputs.append(
                    kit.cli(
                        "--debug", "run", "--db", str(kit.db), "--timeout", "0.5", "--instance", b
                    )
                )
                for sid in (a, b):
                    event = kit.event(sid)["sid"]
                    for args in (["event", "show", event], ["event", "show", event, "-f", "json"],
                                 ["instance", "timeline", sid, "-f", "json"]):  # fmt: skip
                        outputs.append(kit.cli(*args, "--db", str(kit.db)))
            wal = (kit.folder / "store.db-wal").read_bytes()
        finally:
            reader.close()

    # every failure happened, for real
    assert server.requests("/mirror")[0].json["s"] == SPECIAL
    assert server.requests("/deny") and server.requests("/cookie")
    results = {r["step"]: r for r in kit.event(a)["taskStatus"]["taskResults"]}
    assert results["deny"]["message"].startswith("HTTP 401 from http://***@127.0.0.1:")
    assert results["gone"]["message"].startswith("cannot connect to http://***@127.0.0.1:")
    assert "access_token=***: " in results["gone"]["message"]
    assert "token=***" in results["deny"]["message"] and "token=***" in results["gone"]["message"]
    assert results["cr"]["message"].startswith("header 'X-Cr' of action 'cr' cannot be sent")
    assert results["mirror"]["data"].count("***") == 5  # the echoes in every encoding
    assert results["cookie"]["httpData"]["response"]["headers"]["set-cookie"] == "***"
    assert results["slow"]["message"].startswith("timed out calling")
    assert len(wal) > 0

    stored = kit.dump()
    records = " ".join(r[0] for r in kit.rows("SELECT record FROM events"))
    records += " ".join(r[0] for r in kit.rows("SELECT record FROM instances"))
    printed = [(r.out, "stdout") for r in outputs] + [(r.err, "stderr") for r in outputs]
    assert all(r.code in (0, 1) for r in outputs), [r.text for r in outputs if r.code > 1]
    for secret in ENV_SECRETS:
        for form in secret_shapes(secret):
            assert form not in stored, f"{form!r} is stored"
            for blob, name in ((kit.db.read_bytes(), "store.db"), (wal, "store.db-wal")):
                assert form.encode() not in blob, f"{form!r} in {name}"
            for text, stream in printed:
                assert form not in text, f"{form!r} on {stream}"
    for literal in LITERALS:
        assert literal not in records, f"{literal} stored in an event or instance"
        for text, stream in printed:
            assert literal not in text, f"{literal} on {stream}"


def test_callback_errors_and_a_crashing_run_name_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = RunKit(tmp_path)
    module = tmp_path / "leaky_callbacks.py"
    module.write_text(
        "import os\n\n\ndef backoff(ctx):\n"
        "    raise ValueError('no delay for ' + os.environ['RUN_STRATEGY_SECRET'])\n"
    )
    retry = {"times": 1, "retryAfter": {"unit": "minutes", "amount": 15, "retryEventCallback": "backoff"}}  # fmt: skip
    with RecordingServer({"POST /hook": Reply(503, {})}) as server:
        doc = strategy_doc(
            "leaky", server.url, task={"retryConfig": retry}, secret="${env:RUN_STRATEGY_SECRET}"
        )
        first, second, third = kit.create(doc, {"id": "a"}, {"id": "b"}, {"id": "c"})
        with env_vars(RUN_STRATEGY_SECRET=STRATEGY_SECRET):
            r = kit.run("--callbacks", str(module), "--instance", first)
            assert r.code == 0, r.text
            assert "no delay for ***" in kit.dump()  # the callback's error, stored as a note

            def crash(*args: Any) -> None:
                raise RuntimeError(f"cannot settle with {STRATEGY_SECRET}")

            monkeypatch.setattr("strategy_cli.adapters.runner.Runner.settle", crash)
            r = kit.run("--instance", second)
            with pytest.raises(RuntimeError) as raised:  # --debug lets the traceback through
                kit.cli("--debug", "run", "--db", str(kit.db), "--instance", third)

    assert r.code == 3 and "internal error: RuntimeError: cannot settle with ***" in r.err, r.text
    assert str(raised.value) == "cannot settle with ***"
    assert STRATEGY_SECRET not in kit.dump()
