"""`${env:NAME}` in a strategy's strings, read from the environment at run time: the one place
that looks a variable up and words the error when it is not set (requests, authorizations, the
strategy's secret when running and when serving)."""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.redaction import Redactor
from ..core.requests import RequestError
from ..core.templating import ENV_REF


def env_value(name: str) -> str:
    """The variable's value. Unset is a RequestError: nothing can be sent as the strategy says."""
    value = os.environ.get(name)
    if value is None:
        raise RequestError(f"environment variable {name} is not set (needed by ${{env:{name}}})")
    return value


def resolve_env(value: Any, redactor: Redactor) -> Any:
    """Every `${env:NAME}` in a nested value resolved; every resolved value counts as secret."""
    if isinstance(value, dict):
        return {k: resolve_env(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, redactor) for v in value]
    if not isinstance(value, str) or "${env:" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        resolved = env_value(m.group(1))
        redactor.add(resolved)
        return resolved

    return ENV_REF.sub(one, value)


def env_secret(stored: str) -> str:
    """A strategy's secret as written, or the variable it names when it is exactly one
    `${env:NAME}` (a reference inside a longer secret is not one: it is compared as written)."""
    m = ENV_REF.fullmatch(stored)
    return env_value(m.group(1)) if m else stored
