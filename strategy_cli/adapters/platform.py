"""The platform's API: `GET /execution-instance/:instanceSid/get-tasks`, with profiles.

Every failure is one line naming what happened, never the secret.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.redaction import Redactor
from ..errors import StrategyError, UsageError
from .clock import utcnow

RETRIES = 3  # for 429 and 5xx
MAX_WAIT = 10.0  # seconds: a Retry-After longer than this is not waited for: we give up at once


@dataclass(frozen=True)
class Remote:
    api_url: str
    secret: str
    source: str  # where the settings came from, for messages


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "strategy" / "config.toml"


def resolve_remote(api_url: str | None, secret: str | None, profile: str | None) -> Remote | None:
    """A profile, or flags then environment; None means: use the local store."""
    if profile:
        if api_url or secret:
            raise UsageError("--profile cannot be combined with --api-url or --secret")
        return _profile(profile)
    url = api_url or os.environ.get("STRATEGY_API_URL")
    if not url:
        if secret:
            raise UsageError("--secret needs --api-url (or STRATEGY_API_URL)")
        return None
    key = secret or os.environ.get("STRATEGY_SECRET")
    if not key:
        raise UsageError("remote mode needs a secret: --secret or STRATEGY_SECRET")
    return Remote(url, key, "--api-url")


def _profile(name: str) -> Remote:
    path = config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--profile {name}: no configuration file at {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UsageError(f"{path}: `profiles` must be a table: [profiles.NAME] sections")
    profile = profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(profiles)) or "none"
        raise UsageError(f"--profile {name}: not in {path} (profiles: {known})")
    if not isinstance(profile, dict):
        raise UsageError(f"{path}: profiles.{name} must be a table: [profiles.{name}]")
    url, var = profile.get("api_url"), profile.get("secret_env")
    if not isinstance(url, str) or not isinstance(var, str):
        raise UsageError(f"{path}: [profiles.{name}] needs api_url and secret_env")
    secret = os.environ.get(var)
    if not secret:
        raise UsageError(f"--profile {name}: environment variable {var} (secret_env) is not set")
    return Remote(url, secret, f"profile {name}")


def get_tasks(remote: Remote, instance_sid: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The pending tasks array, checked against the reference's Event shape (unknown keys kept)."""
    url = (
        f"{remote.api_url.rstrip('/')}/execution-instance/{quote(instance_sid, safe='')}/get-tasks"
    )
    redactor = Redactor()  # the secret, and credentials in the URL, leave no error text
    redactor.add(remote.secret)
    redactor.learn(url)
    with redactor.guarding():
        return _get_tasks(remote, instance_sid, url, timeout)


def _get_tasks(remote: Remote, instance_sid: str, url: str, timeout: float) -> list[dict[str, Any]]:
    import httpx

    _check_url(remote, url)
    _check_header_safe(remote)
    headers = {"Strategy-Secret": remote.secret, "Accept": "application/json"}
    with httpx.Client(timeout=timeout) as client:
        response = _with_retries(client, url, headers)
    return _checked(response, instance_sid, url)


def _check_url(remote: Remote, url: str) -> None:
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UsageError(
            f"{remote.source}: not a valid API URL: {remote.api_url} ({exc})"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(
            f"{remote.source}: not an http(s) URL: {remote.api_url}",
            hint="e.g. https://platform.example.com/api",
        )


def _check_header_safe(remote: Remote) -> None:
    """httpx would fail on such a secret with a message quoting it (or a bare UnicodeEncodeError)."""
    if not (remote.secret.isascii() and remote.secret.isprintable()):
        raise UsageError(
            f"the secret ({remote.source}) has characters an HTTP header cannot carry",
            hint="a Strategy-Secret is printable ASCII, without line breaks",
        )


def _with_retries(client: Any, url: str, headers: dict[str, str]) -> Any:
    import httpx

    for attempt in range(RETRIES + 1):
        try:
            response = client.get(url, headers=headers)
        except httpx.ConnectTimeout:
            raise StrategyError(f"timed out connecting to {url}", hint="check --api-url") from None
        except httpx.TimeoutException:
            raise StrategyError(
                f"{url} did not answer in time", hint="try again, or raise --timeout"
            ) from None
        except httpx.ConnectError as exc:
            raise StrategyError(
                f"cannot connect to {url}: {_reason(exc)}", hint="check --api-url"
            ) from None
        except httpx.HTTPError as exc:
            raise StrategyError(f"request to {url} failed: {_reason(exc)}") from None
        status = response.status_code
        if status != 429 and status < 500:
            return response
        if attempt == RETRIES:
            break
        wait = _retry_after(response)
        if wait is not None and wait > MAX_WAIT:
            raise StrategyError(
                f"{url} answered HTTP {status} and asks to retry after {wait:.0f} s",
                hint="try again later",
            )
        time.sleep(0.5 * 2**attempt if wait is None else wait)
    raise StrategyError(
        f"{url} answered HTTP {response.status_code} after {RETRIES + 1} attempts",
        hint="try again later",
    )


def _retry_after(response: Any) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    from email.utils import parsedate_to_datetime

    raw = (response.headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    try:
        wait = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = (when - utcnow()).total_seconds()
    if wait != wait:  # NaN
        return None
    return max(0.0, wait)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__  # the secret is scrubbed by get_tasks's redactor
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return f"TLS error: {text}"
    return text


def _checked(response: Any, sid: str, url: str) -> list[dict[str, Any]]:
    status = response.status_code
    if status in (401, 403):
        raise StrategyError(
            "the secret was refused for this strategy",
            hint="check --secret / the profile's secret_env",
        )
    if status == 404:
        raise StrategyError(f"no such instance: {sid}", hint="check the sid against the platform")
    if not 200 <= status < 300:
        raise StrategyError(f"{url} answered HTTP {status}")
    from ..core.jsontext import JsonLimitError, loads_limited

    try:
        data = loads_limited(response.content)
    except JsonLimitError as exc:
        raise StrategyError(f"{url} answered with JSON this tool cannot use: {exc}") from None
    except ValueError:
        raise StrategyError(f"{url} answered with a body that is not JSON") from None
    _check_shape(data)
    return data  # type: ignore[no-any-return]


def _check_shape(data: Any) -> None:
    from pydantic import TypeAdapter, ValidationError

    from ..core.models import Event

    try:
        TypeAdapter(list[Event]).validate_python(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]) or "(body)"
        raise StrategyError(
            f"the response does not match the get-tasks shape: {where.lstrip('.')}: {err['msg']}"
        ) from None
