from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clikit import forget_process_state
from hypothesis import settings
from servers import RecordingServer, RunKit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "sample-strategies"
# Attributes that satisfy the loan-collection sample's instanceValidation.
LOAN_ATTRS = {
    "loanId": "L1",
    "customerEmail": "a@b.c",
    "firstDueDate": "2026-01-31T00:00:00+01:00",
    "amountCents": 1000,
}

# Hypothesis keeps no example database: a run's outcome depends on the code and the seed only,
# never on what an earlier run (or test) found. A failure prints how to reproduce it.
settings.register_profile("strategy", database=None, print_blob=True)
settings.load_profile("strategy")


@pytest.hookimpl(trylast=True)  # after pytest-randomly has chosen its seed
def pytest_configure(config: pytest.Config) -> None:
    """`--randomly-seed=N` reproduces hypothesis's examples too, not only the order."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and getattr(config.option, "hypothesis_seed", None) is None:
        from hypothesis import core

        core.global_force_seed = seed  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may write the user's real store or read their config."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("STRATEGY_DB", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


# --- `strategy run` tests: a counting HTTP server on 127.0.0.1, a store in the test's folder ---


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as s:
        yield s


@pytest.fixture
def kit(tmp_path: Path) -> RunKit:
    return RunKit(tmp_path)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real, small device: a 2 MB tmpfs (fill it with `fill_device`). Skipped where
    mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    import subprocess

    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_device(folder: Path) -> None:
    """Write a filler file in `folder` until its device has not one byte left."""
    import errno
    import os

    filler = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while os.write(filler, b"\0" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(filler)


# --- process state: every test starts as if it ran first -----------------------------------------


@pytest.fixture(autouse=True)
def _fresh_process_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Callback modules a test wrote are imported (and their folders put on sys.path) by the
    code under test; forget them, and what the adapters cached, so no later test sees them."""
    forget_process_state()
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    scratch = str(tmp_path_factory.getbasetemp())
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(scratch):
            del sys.modules[name]
    forget_process_state()


# --- no network but loopback --------------------------------------------------------------------

# Where a subprocess's HTTP client would go for a non-loopback host: the discard port, closed.
_DEAD_PROXY = "http://127.0.0.1:9"
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


class NetworkBlocked(OSError):
    """A test tried to reach a host other than this machine: tests use servers on 127.0.0.1.
    An OSError, so the code under test sees what an offline machine would give it."""


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _is_numeric(host: object) -> bool:
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host))
    except (ValueError, UnicodeDecodeError):
        return False
    return True


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outbound connections only to loopback (and Unix sockets); a name other than localhost is
    not even resolved. Subprocesses get a proxy that goes nowhere for any other host."""
    test = request.node.nodeid

    def refuse(host: object) -> NetworkBlocked:
        return NetworkBlocked(
            f"network access to {host!r} blocked in test {test}: use a server on 127.0.0.1"
        )

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family != getattr(socket, "AF_UNIX", None) and not _is_loopback(address[0]):
            raise refuse(address[0])

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    getaddrinfo, create_connection = socket.getaddrinfo, socket.create_connection

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # A number or None (a listening socket) needs no lookup; a name would ask a resolver.
        if host is not None and not _is_numeric(host) and not _is_loopback(host):
            raise refuse(host)
        return getaddrinfo(host, *args, **kwargs)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _is_loopback(address[0]):
            raise refuse(address[0])
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    for name in _PROXY_VARIABLES:
        monkeypatch.setenv(name, _DEAD_PROXY)
        monkeypatch.setenv(name.lower(), _DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")
