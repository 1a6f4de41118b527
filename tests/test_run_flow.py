"""`strategy run` through the step graph against a real HTTP server: retries on the runner's clock,
pause before cancel, onError, optional steps, async methods and --callbacks modules."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servers import Clock, RecordingServer, Reply, RunKit, strategy_doc


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _methods(*paths: str, async_: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        m: dict[str, Any] = {"key": p, "url": f"/{p}", "method": "post"}
        if p in async_:
            m["async"] = True
        out.append(m)
    return out


def _actions(*paths: str, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "key": p,
            "service": "api",
            "method": p,
            "data": (data or {}).get(p, {"id": "{{ attributes.id }}"}),
        }
        for p in paths
    ]


def _callbacks(kit: RunKit, source: str, name: str = "flow_callbacks") -> str:
    path = kit.folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_retries_wait_the_declared_delays_then_fail(
    kit: RunKit, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    server.route("POST /hook", Reply(500, {"error": "down"}))
    retry = {
        "times": 2,
        "retryStrategy": [{"unit": "minutes", "amount": 5}, {"unit": "minutes", "amount": 30}],
    }
    (sid,) = kit.create(strategy_doc("retry", server.url, task={"retryConfig": retry}), {"id": "a"})

    r = kit.run()
    assert r.code == 0 and "1 retried" in r.out, r.text
    event = kit.event(sid)
    assert event["status"] == "PENDING" and event["attempt"] == 1
    assert _at(event["date"]) == clock.now + timedelta(minutes=5)
    assert event["errorMessage"] == f"HTTP 500 from {server.url}/hook"

    clock.advance(minutes=4, seconds=59)  # not due yet
    assert "0 attempt" in kit.run().out
    assert len(server.requests()) == 1

    clock.advance(seconds=1)
    assert kit.run().code == 0
    event = kit.event(sid)
    assert event["status"] == "PENDING" and event["attempt"] == 2
    assert _at(event["date"]) == clock.now + timedelta(minutes=30)
    assert event["cachedTaskStatus"]["taskResults"][0]["success"] is False

    clock.advance(minutes=30)
    r = kit.run()
    assert r.code == 1 and "1 failed" in r.out
    event = kit.event(sid)
    assert event["status"] == "FAILED" and event["attempt"] == 3
    assert kit.instance(sid)["status"] == "CANCELED"
    assert [s.key for s in server.requests()] == [f"{sid_of(event)}:call:{k}" for k in (1, 2, 3)]


def sid_of(event: dict[str, Any]) -> str:
    return str(event["sid"])


def test_retry_after_and_retry_event_callback(
    kit: RunKit, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    server.route("POST /hook", Reply(503, {}))
    module = _callbacks(
        kit,
        """
        def backoff(ctx):
            assert ctx["kind"] == "retryEventCallback"
            assert ctx["event"]["task"] == "work" and ctx["attributes"]["id"] == "a"
            return {"unit": "hours", "amount": ctx["attempt"] * 2}
        """,
    )
    plain = {"times": 3, "retryAfter": {"unit": "minutes", "amount": 15}}
    called = {
        "times": 3,
        "retryAfter": {"unit": "minutes", "amount": 15, "retryEventCallback": "backoff"},
    }
    (p,) = kit.create(strategy_doc("after", server.url, task={"retryConfig": plain}), {"id": "a"})
    (c,) = kit.create(strategy_doc("cb", server.url, task={"retryConfig": called}), {"id": "a"})

    assert kit.run("--callbacks", module).code == 0
    assert _at(kit.event(p)["date"]) == clock.now + timedelta(minutes=15)
    assert _at(kit.event(c)["date"]) == clock.now + timedelta(hours=2)

    clock.advance(hours=2)
    assert kit.run("--callbacks", module).code == 0
    assert _at(kit.event(p)["date"]) == clock.now + timedelta(minutes=15)
    assert _at(kit.event(c)["date"]) == clock.now + timedelta(hours=4)


def test_pause_before_cancel_then_resume(
    kit: RunKit, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    server.route("POST /hook", Reply(500, {}))
    steps = [
        {
            "key": "call",
            "action": "hook",
            "final": True,
            "nextStepRules": [
                {"if": "onBeforeRetry", "nextStep": "warn"},
                {"if": "onBeforePause", "nextStep": "notify"},
            ],
        },
        {"key": "warn", "action": "warn", "final": True},
        {"key": "notify", "action": "notify", "final": True},
    ]
    retry = {"times": 1, "retryAfter": {"unit": "minutes", "amount": 0}, "pauseBeforeCancel": True}
    doc = strategy_doc(
        "pause",
        server.url,
        steps=steps,
        methods=_methods("hook", "warn", "notify"),
        actions=_actions("hook", "warn", "notify"),
        task={"retryConfig": retry},
    )
    (sid,) = kit.create(doc, {"id": "a"})

    r = kit.run()  # attempt 1 fails, retried at once (delay 0), attempt 2 fails: pause

    assert r.code == 0, r.text
    assert "1 retried" in r.out and "1 paused" in r.out
    assert [s.path for s in server.requests()] == ["/hook", "/warn", "/hook", "/notify"]
    event = kit.event(sid)
    assert event["status"] == "PAUSED" and event["attempt"] == 2
    assert kit.instance(sid)["status"] == "PAUSED"
    assert [x["step"] for x in event["taskStatus"]["taskResults"]] == ["call", "notify"]
    assert "0 attempt" in kit.run().out  # a paused instance's events do not run

    server.route("POST /hook", Reply(200, {"ok": True}))
    assert kit.cli("instance", "resume", sid, "--db", str(kit.db)).code == 0
    # The operator's resume used the real clock, which moved on (by seconds on a loaded machine):
    # run just after it.
    clock.now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    r = kit.run()
    assert r.code == 0 and "1 processed" in r.out
    event = kit.event(sid)
    assert event["status"] == "PROCESSED" and event["attempt"] == 1
    # attempts count again from 1, but the idempotency key is a new one: the third attempt
    keys = [s.key for s in server.requests("/hook")]
    assert keys == [f"{event['sid']}:call:{n}" for n in (1, 2, 3)]


def test_on_error_branch_handles_the_failure(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", Reply(502, {}))
    steps = [
        {
            "key": "call",
            "action": "hook",
            "nextStep": "after",
            "nextStepRules": [{"if": "onError", "nextStep": "fallback"}],
        },
        {"key": "after", "action": "after", "final": True},
        {"key": "fallback", "action": "fallback", "final": True},
    ]
    doc = strategy_doc(
        "onerror",
        server.url,
        steps=steps,
        methods=_methods("hook", "after", "fallback"),
        actions=_actions("hook", "after", "fallback"),
    )
    (sid,) = kit.create(doc, {"id": "a"})

    assert kit.run().code == 0

    assert [s.path for s in server.requests()] == ["/hook", "/fallback"]
    event = kit.event(sid)
    assert event["status"] == "PROCESSED"
    results = event["taskStatus"]["taskResults"]
    assert [(x["step"], x["success"]) for x in results] == [("call", False), ("fallback", True)]
    assert event["taskStatus"]["lastStep"] == "fallback"


def test_optional_step_failure_continues(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /hook", Reply(500, {}))
    steps = [
        {"key": "call", "action": "hook", "optional": True, "nextStep": "after"},
        {"key": "after", "action": "after", "final": True},
    ]
    doc = strategy_doc(
        "optional",
        server.url,
        steps=steps,
        methods=_methods("hook", "after"),
        actions=_actions("hook", "after"),
    )
    (sid,) = kit.create(doc, {"id": "a"})

    assert kit.run().code == 0

    assert [s.path for s in server.requests()] == ["/hook", "/after"]
    event = kit.event(sid)
    assert event["status"] == "PROCESSED"
    results = event["taskStatus"]["taskResults"]
    assert [(x["step"], x["success"]) for x in results] == [("call", False), ("after", True)]


ASYNC_CALLBACKS = """
    def store_result(ctx):
        assert ctx["kind"] == "resumeControllerCallback"
        assert ctx["steps"]["start"]["data"] == {"checkId": "chk-1", "status": "queued"}
        return {"score": ctx["resumeData"]["score"], "clean": ctx["resumeData"]["score"] < 50}

    def needs_review(ctx):
        return not ctx["steps"]["start"]["afterResumeData"]["clean"]
"""


def test_async_method_holds_until_resumed(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /start", Reply(202, {"checkId": "chk-1", "status": "queued"}))
    module = _callbacks(kit, ASYNC_CALLBACKS)
    steps = [
        {
            "key": "start",
            "action": "start",
            "resumeControllerCallback": "flow_callbacks.store_result",
            "nextStep": "finish",
            "nextStepRules": [
                {"if": "callback", "ifCallback": "needs_review", "nextStep": "review"}
            ],
        },
        {"key": "finish", "action": "finish", "final": True},
        {"key": "review", "action": "review", "final": True},
    ]
    doc = strategy_doc(
        "async",
        server.url,
        steps=steps,
        methods=_methods("start", "finish", "review", async_=("start",)),
        actions=_actions(
            "start",
            "finish",
            "review",
            data={
                "finish": {
                    "check": "{{ steps.start.data.checkId }}",
                    "score": "{{ steps.start.afterResumeData.score }}",
                    "id": "{{ attributes.id }}",
                }
            },
        ),
    )
    (sid,) = kit.create(doc, {"id": "a"})

    r = kit.run("--callbacks", module)
    assert r.code == 0 and "1 on hold" in r.out, r.text
    event = kit.event(sid)
    assert event["status"] == "ONHOLD"
    assert [s.path for s in server.requests()] == ["/start"]
    assert "0 attempt" in kit.run("--callbacks", module).out  # waiting is not due

    resumed = kit.cli(
        "event", "resume", event["sid"], "--data", '{"score": 12}', "--db", str(kit.db)
    )
    assert resumed.code == 0, resumed.text
    assert kit.event(sid)["status"] == "PENDING"

    r = kit.run("--callbacks", module)
    assert r.code == 0 and "1 processed" in r.out, r.text
    event = kit.event(sid)
    assert event["status"] == "PROCESSED" and event["attempt"] == 1
    start, finish = event["taskStatus"]["taskResults"]
    assert start["step"] == "start" and start["afterResumeData"] == {"score": 12, "clean": True}
    assert finish["step"] == "finish" and finish["success"] is True
    (seen,) = server.requests("/finish")
    assert seen.json == {"check": "chk-1", "score": 12, "id": "a"}
    assert seen.key == f"{event['sid']}:finish:1"


CONTROLLERS = """
    SEEN = []

    def explode(ctx):
        raise ValueError("boom 42")

    def refuse(ctx):
        return False

    def upgrade(ctx):
        assert ctx["kind"] == "controller" and ctx["env"] == "local"
        assert set(ctx) >= {"instance", "attributes", "event", "steps", "cycle"}
        return {"data": {"tier": "gold"}, "overrides": {"attributes": {"tier": "gold"}, "nextStep": "b"}}

    def stop(ctx):
        return {"success": True, "message": "enough", "overrides": {"cancelInstance": True}}

    def picky(ctx):
        raise RuntimeError("cannot decide")

    def _renamed(ctx):
        return {"data": ctx["steps"]["a"]["data"]}

    CALLBACKS = {"from_mapping": _renamed}
"""


def _controller_doc(server: RecordingServer, name: str, first: dict[str, Any]) -> dict[str, Any]:
    steps = [
        first,
        {"key": "a", "action": "a", "nextStep": "b"},
        {"key": "b", "action": "b", "final": True},
    ]
    return strategy_doc(
        name, server.url, steps=steps, methods=_methods("a", "b"), actions=_actions("a", "b")
    )


@pytest.mark.parametrize(
    ("controller", "message"),
    [
        ("explode", "callback 'explode' raised ValueError: boom 42"),
        ("refuse", "the controller reported failure"),
        ("nowhere", "callback 'nowhere' is not defined in any --callbacks module"),
    ],
)
def test_failing_controller_fails_the_step(
    kit: RunKit, server: RecordingServer, controller: str, message: str
) -> None:
    module = _callbacks(kit, CONTROLLERS)
    first = {"key": "check", "controller": controller, "nextStep": "a"}
    (sid,) = kit.create(_controller_doc(server, f"c-{controller}", first), {"id": "x"})

    r = kit.run("--callbacks", module, "--env", "local")

    assert r.code == 1
    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == message
    (result,) = event["taskStatus"]["taskResults"]
    assert result == {**result, "step": "check", "success": False, "message": message}
    assert server.requests() == []


def test_controller_overrides_attributes_and_next_step(
    kit: RunKit, server: RecordingServer
) -> None:
    module = _callbacks(kit, CONTROLLERS)
    first = {"key": "check", "controller": "upgrade", "nextStep": "a"}
    (sid,) = kit.create(_controller_doc(server, "c-upgrade", first), {"id": "x"})

    assert kit.run("--callbacks", module, "--env", "local").code == 0

    assert [s.path for s in server.requests()] == ["/b"]  # `a` was skipped by the override
    assert kit.instance(sid)["attributes"] == {"id": "x", "tier": "gold"}
    results = kit.event(sid)["taskStatus"]["taskResults"]
    assert results[0]["data"] == {"tier": "gold"} and results[0]["overrides"]["nextStep"] == "b"


def test_controller_may_cancel_the_instance(kit: RunKit, server: RecordingServer) -> None:
    module = _callbacks(kit, CONTROLLERS)
    first = {"key": "check", "controller": "stop", "nextStep": "a"}
    (sid,) = kit.create(_controller_doc(server, "c-stop", first), {"id": "x"})

    assert kit.run("--callbacks", module).code == 0

    assert server.requests() == []
    instance = kit.instance(sid)
    assert instance["status"] == "CANCELED" and instance["cancelReason"] == "CONTROLLER_HELPER"
    assert kit.event(sid)["status"] == "PROCESSED"


def test_callbacks_mapping_and_qualified_names(kit: RunKit, server: RecordingServer) -> None:
    server.route("POST /a", Reply(200, {"n": 1}))
    module = _callbacks(kit, CONTROLLERS, name="mapped")
    steps = [
        {"key": "a", "action": "a", "nextStep": "copy"},
        {"key": "copy", "controllerCallback": "mapped.from_mapping", "final": True},
    ]
    doc = strategy_doc(
        "mapping", server.url, steps=steps, methods=_methods("a"), actions=_actions("a")
    )
    (sid,) = kit.create(doc, {"id": "x"})

    assert kit.run("--callbacks", module).code == 0

    results = kit.event(sid)["taskStatus"]["taskResults"]
    assert results[1] == {**results[1], "step": "copy", "success": True, "data": {"n": 1}}


def test_if_callback_raising_fails_the_step(kit: RunKit, server: RecordingServer) -> None:
    module = _callbacks(kit, CONTROLLERS)
    steps = [
        {
            "key": "a",
            "action": "a",
            "nextStep": "b",
            "nextStepRules": [{"if": "callback", "ifCallback": "picky", "nextStep": "b"}],
        },
        {"key": "b", "action": "b", "final": True},
    ]
    doc = strategy_doc(
        "picky", server.url, steps=steps, methods=_methods("a", "b"), actions=_actions("a", "b")
    )
    (sid,) = kit.create(doc, {"id": "x"})

    assert kit.run("--callbacks", module).code == 1

    event = kit.event(sid)
    assert event["status"] == "FAILED"
    assert event["errorMessage"] == "callback 'picky' raised RuntimeError: cannot decide"
    assert [s.path for s in server.requests()] == ["/a"]


def test_if_callback_chooses_the_branch(kit: RunKit, server: RecordingServer) -> None:
    module = _callbacks(
        kit,
        """
        def big(ctx):
            return ctx["steps"]["a"]["data"]["amount"] > 100
        """,
    )
    server.route("POST /a", Reply(200, {"amount": 500}))
    steps = [
        {
            "key": "a",
            "action": "a",
            "nextStep": "b",
            "nextStepRules": [{"if": "callback", "ifCallback": "big", "nextStep": "c"}],
        },
        {"key": "b", "action": "b", "final": True},
        {"key": "c", "action": "c", "final": True},
    ]
    doc = strategy_doc(
        "branch",
        server.url,
        steps=steps,
        methods=_methods("a", "b", "c"),
        actions=_actions("a", "b", "c"),
    )
    kit.create(doc, {"id": "x"})

    assert kit.run("--callbacks", module).code == 0
    assert [s.path for s in server.requests()] == ["/a", "/c"]
    assert json.loads(server.requests("/c")[0].body) == {"id": "x"}
