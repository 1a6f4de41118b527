"""`${env:NAME}`: the requests (http), the secret when running (runner) and when serving
(server) read a variable through one resolver, so a missing one is the same error everywhere."""

from __future__ import annotations

import pytest

from strategy_cli.adapters import environ, http, runner, server
from strategy_cli.core.redaction import Redactor
from strategy_cli.core.requests import RequestError

MISSING = "STRATEGY_TEST_SURELY_UNSET_VAR"
MESSAGE = f"environment variable {MISSING} is not set (needed by ${{env:{MISSING}}})"


def test_missing_variable_is_one_error_for_every_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MISSING, raising=False)
    raised: list[str] = []
    real = environ.env_value

    def spy(name: str) -> str:
        try:
            return real(name)
        except RequestError as exc:
            raised.append(str(exc))
            raise

    monkeypatch.setattr(environ, "env_value", spy)
    ref = f"${{env:{MISSING}}}"

    with pytest.raises(RequestError) as exc:  # a request: a configuration error, nothing sent
        http.resolve_env({"headers": [f"Bearer {ref}"]}, Redactor())
    assert str(exc.value) == MESSAGE
    redactor = Redactor()
    runner.add_strategy_secret(redactor, {"secret": ref})  # running: nothing more to hide
    assert not server.secret_matches(ref, "")  # serving: nobody is let in
    assert raised == [MESSAGE] * 3


def test_set_variable_resolves_and_counts_as_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MISSING, "v4lue")
    redactor = Redactor()
    assert environ.resolve_env({"a": [f"x-${{env:{MISSING}}}-y"]}, redactor) == {"a": ["x-v4lue-y"]}
    assert "v4lue" not in str(redactor.scrub("the v4lue"))
    assert environ.env_secret(f"${{env:{MISSING}}}") == "v4lue"
    assert environ.env_secret(f"a${{env:{MISSING}}}") == f"a${{env:{MISSING}}}"  # not exactly one
