"""The suite's own guarantees: no network but loopback, and the CLI helper is the real `main()`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest
from clikit import run_main
from conftest import NetworkBlocked


@pytest.mark.parametrize(
    "reach",
    [
        lambda: socket.create_connection(("192.0.2.1", 80), timeout=1),
        lambda: socket.create_connection(("example.com", 443), timeout=1),
        lambda: socket.getaddrinfo("example.com", 443),
        lambda: socket.socket().connect(("192.0.2.1", 80)),
        lambda: socket.socket().connect_ex(("192.0.2.1", 80)),
        lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 80)),
    ],
    ids=[
        "create_connection-ip",
        "create_connection-name",
        "getaddrinfo",
        "connect",
        "connect_ex",
        "connect-ipv6",
    ],
)
def test_the_network_is_blocked_naming_the_test(reach: object) -> None:
    with pytest.raises(NetworkBlocked, match="test_the_network_is_blocked_naming_the_test"):
        reach()  # type: ignore[operator]


def test_loopback_and_unix_sockets_still_work(tmp_path: object) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted = threading.Thread(target=lambda: server.accept()[0].close())
        accepted.start()
        with socket.create_connection(("localhost", port), timeout=5):
            pass
        accepted.join(5)
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo("::1", 80)
    left, right = socket.socketpair()  # AF_UNIX
    left.close(), right.close()


def test_a_subprocess_has_nowhere_to_go_but_loopback() -> None:
    assert os.environ["NO_PROXY"] == "127.0.0.1,localhost,::1"
    code = (
        "import urllib.request\n"
        "try:\n"
        "    urllib.request.urlopen('http://192.0.2.1/', timeout=5)\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "Connection refused" in proc.stdout, proc.stdout + proc.stderr  # the dead proxy
    assert urllib.request.getproxies()["http"] == "http://127.0.0.1:9"


def test_run_main_gives_what_a_user_sees() -> None:
    ok = run_main("--version")
    assert (ok.code, ok.stderr) == (0, "") and ok.stdout.startswith("strategy ")
    usage = run_main("validate", "--no-such-flag")
    assert usage.code == 2 and "--no-such-flag" in usage.stderr and usage.stdout == ""
    missing = run_main("instance", "show", "no-such-sid", "--db", ":memory:")
    assert missing.code == 1, missing
    errors = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in missing.stderr, missing.stderr


def test_run_main_reads_stdin_and_scoped_environment() -> None:
    os.environ["STRATEGY_TEST_MARK"] = "outside"
    try:
        result = run_main(
            "validate", "-", input="not: [a strategy", env={"STRATEGY_TEST_MARK": None}
        )
        assert os.environ["STRATEGY_TEST_MARK"] == "outside"
    finally:
        del os.environ["STRATEGY_TEST_MARK"]
    assert result.code == 1 and "yaml" in result.stdout.lower() + result.stderr.lower(), result


def test_hypothesis_follows_the_random_order_seed(pytestconfig: pytest.Config) -> None:
    from hypothesis import core

    seed = getattr(pytestconfig.option, "randomly_seed", None)
    if not isinstance(seed, int) or pytestconfig.option.hypothesis_seed is not None:
        pytest.skip("runs with pytest-randomly choosing the seed")
    assert core.global_force_seed == seed  # type: ignore[attr-defined]
