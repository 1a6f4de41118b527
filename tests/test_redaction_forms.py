"""The redactor on its own: every shape of a secret, credential names, URLs, exception texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import secret_shapes

from strategy_cli.core.redaction import Redactor, credential_header, credential_param


def _redactor(*secrets: str) -> Redactor:
    r = Redactor()
    for s in secrets:
        r.add(s)
    return r


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=4, max_size=24).filter(lambda s: len(s.strip()) >= 4))
def test_every_shape_of_a_secret_is_hidden(secret: str) -> None:
    r = _redactor(secret)
    for shape in secret_shapes(secret):
        assert shape not in r.scrub(f"<<{shape}>>"), shape


def test_a_secret_inside_another_is_replaced_longest_first() -> None:
    # Were the short one replaced first, the tail of the long one would be left in the clear.
    r = _redactor("abcd", "abcdefgh")
    assert r.scrub("x abcdefgh y abcd z") == "x *** y *** z"
    r = _redactor("abcdefgh", "abcd")
    assert r.scrub("x abcdefgh y") == "x *** y"


def test_values_shorter_than_four_characters_are_not_secrets() -> None:
    r = _redactor("abc", "wxyz", "pq\r\n")
    assert r.scrub("abc wxyz pq") == "abc *** pq"  # "pq" stripped is too short to hide
    assert r.scrub("pq\r\n!") == "***!"


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("Authorization", True), ("Proxy-Authenticate", True), ("Cookie", True),
        ("Set-Cookie", True), ("X-Auth-Token", True), ("X-Api-Key", True),
        ("X-Amz-Signature", True), ("X-Client-Secret", True), ("Idempotency-Key", False),
        ("Content-Type", False), ("X-Correlation-Id", False),
    ],
)  # fmt: skip
def test_credential_headers(name: str, credential: bool) -> None:
    assert credential_header(name) is credential
    assert Redactor().scrub_headers({name: "v"})[name] == ("***" if credential else "v")


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("token", True), ("access_token", True), ("API_KEY", True), ("X-Amz-Signature", True),
        ("client_secret", True), ("Password", True), ("page", False), ("id", False),
    ],
)  # fmt: skip
def test_credential_query_parameters(name: str, credential: bool) -> None:
    assert credential_param(name) is credential
    url = f"https://h.example/p?a=1&{name}=v4lue-x&b=2"
    hidden = f"https://h.example/p?a=1&{name}=***&b=2"
    assert (
        Redactor().scrub(f"GET {url}: refused") == f"GET {hidden if credential else url}: refused"
    )


def test_url_user_info_is_hidden_in_any_text() -> None:
    r = Redactor()
    text = "cannot connect to https://ana:p%40ss@pay.example/x?token=t0k3n: refused"
    assert r.scrub(text) == "cannot connect to https://***@pay.example/x?token=***: refused"


def test_credentials_a_request_carries_are_learnt_as_secrets() -> None:
    r = Redactor()
    r.learn(
        "https://ana:p%40ss-1234@pay.example/x?api_key=k3y-5678&page=2",
        {"X-Auth-Token": "hdr-token-9", "Cookie": "sid=c00kie-1; theme=dark-mode"},
        {"signature": "s1gn-2345"},
    )
    r.learn(headers={"Set-Cookie": "sess=s3ss-6789; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT"})
    echoed = "p@ss-1234 k3y-5678 hdr-token-9 c00kie-1 dark-mode s1gn-2345 s3ss-6789 page 2"
    assert r.scrub(echoed) == "*** *** *** *** *** *** *** page 2"
    assert r.scrub("Path=/; Expires=Wed, 21 Oct 2015") == "Path=/; Expires=Wed, 21 Oct 2015"


def test_exception_texts_are_scrubbed_with_their_causes() -> None:
    r = _redactor("s3cret-value\r")
    try:
        try:
            raise ValueError("Illegal header value b's3cret-value\\r'")
        except ValueError as inner:
            raise RuntimeError("calling https://u:pw@h/?token=abcd failed") from inner
    except RuntimeError as exc:
        r.scrub_exception(exc)
        assert str(exc) == "calling https://***@h/?token=*** failed"
        assert str(exc.__cause__) == "Illegal header value b'***'"


def test_exceptions_leaving_a_guarded_block_are_scrubbed() -> None:
    r = _redactor("s3cret-value")
    with pytest.raises(KeyError) as raised, r.guarding():
        raise KeyError("no s3cret-value here")
    assert "s3cret-value" not in str(raised.value)


def test_remote_errors_name_no_credential_of_the_api_url(tmp_path: Path) -> None:
    from servers import RunKit, free_port

    url = f"http://ana:pw-9x8y7z@127.0.0.1:{free_port()}/api?access_token=tk-1a2b3c"
    r = RunKit(tmp_path).cli(
        "instance", "tasks", "0" * 32, "--api-url", url, "--secret", "s3c-4d5e"
    )
    assert r.code == 1, r.text
    assert r.err.startswith("error: cannot connect to http://***@127.0.0.1:"), r.err
    for secret in ("pw-9x8y7z", "tk-1a2b3c", "s3c-4d5e"):
        assert secret not in r.text


def test_a_secret_of_exactly_the_minimum_length_is_hidden_in_every_container() -> None:
    from strategy_cli.core.redaction import MIN_SECRET_LENGTH

    four = "k" * MIN_SECRET_LENGTH
    r = _redactor(four, 12345, None)  # (not text: never a secret)
    assert r.values == {four}
    record = {"a": [f"x{four}x", 7, None, {"b": four}], "n": 12345}
    assert r.scrub(record) == {"a": ["x***x", 7, None, {"b": "***"}], "n": 12345}
    assert _redactor("k" * (MIN_SECRET_LENGTH - 1)).values == set()


def test_fields_named_like_a_secret_are_hidden_whole() -> None:
    r = Redactor(names=["apiToken"])
    assert r.scrub({"APITOKEN": "anything", "authorization": 1, "other": "v"}) == {
        "APITOKEN": "***",
        "authorization": "***",
        "other": "v",
    }
    assert r.scrub("anything", key="apitoken") == "***"


def test_a_described_request_hides_credentials_by_name_and_by_value() -> None:
    r = _redactor("body-s3cret")
    request = {
        "method": "POST",
        "url": "https://h.example/p?token=t0k-1&page=2",
        "headers": {"X-Api-Key": "k", "Accept": "body-s3cret"},
        "params": {"password": "p", "page": "body-s3cret"},
        "body": {"note": "with body-s3cret"},
    }
    assert r.scrub_request(request) == {
        "method": "POST",
        "url": "https://h.example/p?token=***&page=2",
        "headers": {"X-Api-Key": "***", "Accept": "***"},
        "params": {"password": "***", "page": "***"},
        "body": {"note": "with ***"},
    }
    assert r.scrub_request({"headers": None, "params": None}) == {"headers": {}, "params": {}}


def test_a_bearer_credential_is_learnt_without_its_scheme() -> None:
    r = Redactor()
    r.learn("http://[::1", {"Authorization": "Bearer tok-123456", "Accept": "text/plain"})
    assert r.scrub("echo tok-123456; Bearer text/plain") == "echo ***; Bearer text/plain"


def test_a_set_cookie_is_learnt_cookie_by_cookie() -> None:
    r = Redactor()
    r.learn(headers={"Set-Cookie": "a=c00kie-one; Path=/, b=c00kie-two; HttpOnly"})
    assert r.scrub("c00kie-one c00kie-two Path=/") == "*** *** Path=/"


def test_exception_chains_with_a_cycle_and_strategy_errors_are_scrubbed() -> None:
    from strategy_cli.errors import StrategyError

    r = _redactor("s3cret-value")
    first = StrategyError("s3cret-value refused", hint="retry without s3cret-value")
    second = ValueError("again s3cret-value")
    first.__context__, second.__context__ = second, first  # a loop must not hang the scrub
    r.scrub_exception(first)
    assert (first.message, first.hint, str(first)) == (
        "*** refused",
        "retry without ***",
        "*** refused",
    )
    assert str(second) == "again ***"


@pytest.mark.parametrize(
    "secret", ["pässwörd\r", "abc\x7fdef", "abc\x85def", "pa ss/wo+rd\n", "tab\tq'uote\""]
)
def test_each_form_of_a_secret_is_hidden_whole(secret: str) -> None:
    # The shapes are written apart from the redactor's, plus Python's repr (in error texts).
    shapes = secret_shapes(secret) | {repr(secret)[1:-1]}
    r = _redactor(secret)
    for shape in shapes:
        assert r.scrub(f"<<{shape}>>") == "<<***>>", shape


def test_a_percent_encoded_password_and_a_whole_cookie_header_are_hidden() -> None:
    r = Redactor()
    r.learn("https://u:pa%7Ess-word@h.example/", {"Cookie": "sid=c00kie-1; theme=dark-mode"})
    assert r.scrub("pa%7Ess-word pa~ss-word") == "*** ***"
    assert r.scrub("Cookie: sid=c00kie-1; theme=dark-mode") == "Cookie: ***"
