"""`strategy run` ends by saying why attempts failed, grouped by reason: the reasons against a real
server on 127.0.0.1 and a port nobody listens on, and the grouping rule on its own."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from servers import RecordingServer, Reply, RunKit, free_port, strategy_doc

from strategy_cli.core.failures import failure_reason, grouped

RETRY = {"retryConfig": {"times": 3, "retryStrategy": [{"unit": "hours", "amount": 1}]}}


def _strategy(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return strategy_doc(name, url, task=RETRY, **extra)


def test_summary_groups_failed_attempts_by_reason(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", Reply(503, {"error": "busy"}))
    down = f"http://127.0.0.1:{free_port()}"  # nobody listens: connection refused
    kit.create(_strategy("busy", server.url), {"id": "a"}, {"id": "b"}, {"id": "c"})
    kit.create(_strategy("down", down), {"id": "d"}, {"id": "e"})
    kit.create(strategy_doc("fine", server.url + "/ok"), {"id": "f"})

    r = kit.run()
    assert r.code == 0, r.text  # retries are not failures of the run
    host = down.removeprefix("http://")
    assert "5 attempt(s) failed:\n" in r.out, r.out
    lines = r.out.splitlines()
    at = lines.index("5 attempt(s) failed:")
    assert lines[at + 1 : at + 3] == [
        "  HTTP 503 from service 'api' (3)",
        f"  cannot connect to {host} (2)",
    ]
    assert "failed" not in kit.run().out  # nothing is due now: no reasons


def test_one_reason_is_one_line_and_json_lists_every_reason(
    kit: RunKit, server: RecordingServer
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    kit.create(_strategy("down", down), {"id": "a"}, {"id": "b"})
    kit.create(strategy_doc("fine", server.url), {"id": "c"})

    r = kit.run()
    host = down.removeprefix("http://")
    assert f"2 attempt(s) failed: cannot connect to {host} (2)" in r.out.splitlines(), r.out

    kit.create(strategy_doc("final", down), {"id": "d"})  # no retry: the event FAILS
    doc = kit.run("--format", "json").json(code=1)
    assert doc["failures"] == [{"reason": f"cannot connect to {host}", "count": 1}]
    assert doc["outcomes"]["failed"] == 1 and "events" in doc and "calls" in doc


def test_more_than_five_reasons_end_with_and_n_more(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", lambda seen: Reply(500 + int(seen.json["id"]), {}))
    kit.create(_strategy("many", server.url), *({"id": str(i)} for i in range(7)))

    r = kit.run()
    shown = [s.strip() for s in r.out.splitlines() if s.startswith("  ")]
    assert len([s for s in shown if s.startswith("HTTP 50")]) == 5, r.out
    assert "and 2 more reason(s) (2)" in shown
    assert "7 attempt(s) failed:" in r.out.splitlines()


def test_timeouts_are_grouped_by_host(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", Reply(200, delay=1.0))
    kit.create(_strategy("slow", server.url), {"id": "a"}, {"id": "b"})
    doc = kit.run("--timeout", "0.2", "--format", "json").json()
    host = server.url.removeprefix("http://")
    assert doc["failures"] == [{"reason": f"timed out calling {host}", "count": 2}]


def test_reasons_name_no_secret(kit: RunKit, server: RecordingServer) -> None:
    port = free_port()
    url = f"http://ana:pw-9x8y7z@127.0.0.1:{port}/api?access_token=tk-1a2b3c"
    kit.create(_strategy("secretive", url), {"id": "a"})
    r = kit.run("--format", "json")
    assert r.json()["failures"] == [{"reason": f"cannot connect to 127.0.0.1:{port}", "count": 1}]
    text = kit.run().text + r.text
    assert "pw-9x8y7z" not in text and "tk-1a2b3c" not in text


# --- the rule -----------------------------------------------------------------------------------


def test_reasons_of_each_kind() -> None:
    cases = {
        "cannot connect to https://pay.example/v1/x?id=7: [Errno 111] Connection refused": (
            "cannot connect to pay.example"
        ),
        "timed out calling http://10.0.0.7:8443/charge": "timed out calling 10.0.0.7:8443",
        "response too large from https://a.example/x: more than 1000000 bytes": (
            "response too large from a.example"
        ),
        "authorization for 'mail': cannot connect to https://***@auth.example/t: refused": (
            "authorization for 'mail': cannot connect to auth.example"
        ),
        "HTTP 503 from https://mail.example/send": "HTTP 503 from mail.example",
        "response fails responseValidation: /amount: expected number": (
            "response fails responseValidation"
        ),
        "internal error: KeyError: 'x'": "internal error: KeyError",
        "configuration error: cannot connect to http://h.example/x: no": (
            "configuration error: cannot connect to h.example"
        ),
        "the controller reported failure\nwith details": "the controller reported failure",
        "": "failed without a message",
    }
    for message, reason in cases.items():
        assert failure_reason(message) == reason, message
    assert failure_reason("HTTP 502 from https://m.example/x", "mail") == (
        "HTTP 502 from service 'mail'"
    )
    assert len(failure_reason("x" * 500)) == 100


_HOST = st.from_regex(r"[a-z]{1,10}(\.[a-z]{2,5}){1,2}(:[1-9][0-9]{1,4})?", fullmatch=True)
_PATH = st.from_regex(r"(/[A-Za-z0-9_-]{1,8}){0,3}(\?[a-z]{1,5}=[A-Za-z0-9]{1,9})?", fullmatch=True)
_DETAIL = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(_HOST, _PATH, _PATH, _DETAIL, _DETAIL)
def test_the_same_cause_has_the_same_reason(
    host: str, path: str, other: str, detail: str, other_detail: str
) -> None:
    one = failure_reason(f"cannot connect to https://{host}{path}: {detail}")
    two = failure_reason(f"cannot connect to http://{host}{other}: {other_detail}")
    assert one == two == f"cannot connect to {host}"
    slow = failure_reason(f"timed out calling https://{host}{path}")
    assert slow == f"timed out calling {host}"


@given(st.lists(st.sampled_from("abcdefghij"), max_size=60), st.integers(1, 8))
def test_grouping_keeps_every_attempt(reasons: list[str], limit: int) -> None:
    counts = Counter(reasons)
    groups = grouped(counts, limit)
    assert len(groups.shown) == min(limit, len(counts))
    assert sum(n for _, n in groups.shown) + groups.more_attempts == len(reasons)
    assert [n for _, n in groups.shown] == sorted((n for _, n in groups.shown), reverse=True)
