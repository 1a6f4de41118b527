"""Response bodies are read up to `max-response-bytes` (project config): a longer one fails the
attempt ("response too large"), which is retried as the task says; a body is stored once."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import RecordingServer, Reply, RunKit, strategy_doc

LIMIT = 2000
RETRY_AT_ONCE = {"times": 1, "retryStrategy": [{"unit": "minutes", "amount": 0}]}


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunKit:
    (tmp_path / ".strategy.toml").write_text(f"max-response-bytes = {LIMIT}\n")
    monkeypatch.chdir(tmp_path)  # `run` reads the project configuration found from here
    return RunKit(tmp_path)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_fails_each_attempt(kit: RunKit, chunked: bool) -> None:
    big = "x" * (LIMIT + 1)
    with RecordingServer({"POST /hook": Reply(200, big, raw=True, chunked=chunked)}) as server:
        url = server.url
        doc = strategy_doc("big", url, task={"retryConfig": RETRY_AT_ONCE})
        (sid,) = kit.create(doc, {"id": "a"})
        r = kit.run()

    assert r.code == 1, r.text
    assert len(server.requests("/hook")) == 2  # the retry ran, and failed the same way
    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == (
        f"response too large from {url}/hook: more than {LIMIT} bytes (max-response-bytes)"
    )
    (result,) = event["taskStatus"]["taskResults"]
    assert result["httpData"]["response"] == {"error": "ResponseTooLarge"}
    assert "xxxx" not in kit.dump()


def test_a_body_at_the_limit_is_stored_once(kit: RunKit) -> None:
    body = "y" * (LIMIT - 20)
    with RecordingServer({"POST /hook": Reply(200, {"v": body}, chunked=True)}) as server:
        (sid,) = kit.create(strategy_doc("fits", server.url), {"id": "a"})
        r = kit.run()

    assert r.code == 0, r.text
    (result,) = kit.event(sid)["taskStatus"]["taskResults"]
    assert result["data"] == {"v": body}
    (record,) = kit.rows("SELECT record FROM events WHERE instance_sid = ?", sid)
    assert record[0].count(body) == 1


def test_the_limit_must_be_a_positive_number_of_bytes(kit: RunKit) -> None:
    (kit.folder / ".strategy.toml").write_text('max-response-bytes = "10MB"\n')
    r = kit.run()
    assert r.code == 2
    assert "max-response-bytes must be a whole number of bytes" in r.err
