"""`check_sendable` (core/requests.py): what it lets through, the HTTP stack accepts; what it
refuses, it explains without quoting the value."""

from __future__ import annotations

import h11
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategy_cli.core.requests import RequestError, check_sendable

URL = "http://127.0.0.1:8080/hook"
# Values long enough to be recognisable in a message, with every kind of character.
values = st.text(min_size=6, max_size=40).filter(lambda v: v.strip() == v or len(v.strip()) > 5)


def _h11_accepts(name: str, value: str) -> bool:
    conn = h11.Connection(h11.CLIENT)
    try:
        headers = [("Host", "x"), (name.encode(), value.encode())]
        conn.send(h11.Request(method="GET", target="/", headers=headers))
    except (h11.LocalProtocolError, UnicodeEncodeError):
        return False
    return True


@given(values)
def test_a_header_value_passes_exactly_when_it_can_be_sent(value: str) -> None:
    """Exactly, but for control characters: h11 lets \x1f or DEL through, and they are refused
    on purpose (a pasted secret with a stray control character is a mistake, not a value)."""
    try:
        check_sendable(URL, {"X-Token": value}, "action 'hook'")
    except RequestError as exc:
        assert value not in str(exc) and value.strip() not in str(exc)
        assert "header 'X-Token' of action 'hook' cannot be sent" in str(exc)
        passed = False
    else:
        passed = True
    sendable = _h11_accepts("X-Token", value)
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        sendable = False  # httpx encodes header values as ASCII
    if passed:
        assert sendable
    else:  # refused: h11 refuses it too, or it holds a control character h11 lets through
        assert not sendable or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


@given(st.text(min_size=1, max_size=20))
def test_a_header_name_passes_only_when_h11_accepts_it(name: str) -> None:
    try:
        check_sendable(URL, {name: "v"}, "action 'hook'")
    except RequestError as exc:
        assert "not a valid header name" in str(exc)
    else:
        assert _h11_accepts(name, "v")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[::1/x",
        "http://sekrit:99999/x",
        "http://sekrit:port/x",
        "http://sekrit/x\r\nX-Injected: 1",
        "ftp://sekrit/x",
        "/relative/path",
        "http:///no-host",
    ],
)
def test_a_url_that_cannot_be_sent_is_named_not_quoted(url: str) -> None:
    with pytest.raises(RequestError) as caught:
        check_sendable(url, {}, "action 'hook'")
    message = str(caught.value)
    assert message.startswith("the URL of action 'hook' cannot be sent: ")
    assert "sekrit" not in message and "::1" not in message


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z]{2,6})?", fullmatch=True),
    st.integers(1, 65535),
    st.from_regex(r"(/[A-Za-z0-9._~%-]{0,12}){0,4}", fullmatch=True),
)
def test_a_well_formed_url_passes_and_httpx_builds_it(
    scheme: str, host: str, port: int, path: str
) -> None:
    url = f"{scheme}://{host}:{port}{path}"
    check_sendable(url, {}, "action 'hook'")
    httpx.Request("GET", url)
