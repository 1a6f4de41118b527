"""Options and helpers shared by command groups: the store, JSON arguments, formats, sids."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError

if TYPE_CHECKING:
    from ..adapters.store import Store

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Store file (default $STRATEGY_DB or $XDG_DATA_HOME/strategy/store.db)."
    ),
]


class ReadFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[ReadFormat, typer.Option("--format", "-f", help="Output format.")]


def open_store(db: str | None) -> Store:
    from ..adapters.store import Store
    from ..adapters.store_location import store_location

    return Store(store_location(db))


def json_argument(raw: str | None, option: str) -> Any:
    """A JSON value given inline or as @file.json."""
    if raw is None:
        return None
    text, where = raw, option
    if raw.startswith("@"):
        path = Path(raw[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(f"{option}: cannot read {path}: {reason}") from None
        where = str(path)
    from ..core.jsontext import JsonLimitError, loads_limited

    try:
        return loads_limited(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            hint=f'pass {option} \'{{"key": "value"}}\' or {option} @file.json',
        ) from None
    except JsonLimitError as exc:
        raise UsageError(f"{where}: JSON this tool cannot use: {exc}") from None


def zone_of(settings: Any) -> Any:
    from ..core.timecalc import get_zone

    return get_zone(settings.config.timezone if settings.config else None)


def zone_of_record(record: dict[str, Any] | None) -> Any:
    """The zone a strategy's times are shown in; None (the stored offset) when it is gone or
    unreadable: a listing still shows every row."""
    from pydantic import ValidationError

    from ..adapters.strategies import settings_of
    from ..core.timecalc import TimeError

    try:
        return zone_of(settings_of(record)) if record else None
    except (ValidationError, TimeError, KeyError, TypeError):
        return None


def instant_option(raw: str | None, zone: Any, option: str) -> Any:
    """An ISO-8601 option value as an aware instant (naive means wall time in `zone`)."""
    parsed = start_option(raw, zone, option)
    return None if parsed is None else parsed[0]


def start_option(raw: str | None, zone: Any, option: str) -> Any:
    """(instant, intended wall time) of an ISO-8601 option value, or None when it is not given:
    a start written without an offset keeps its written wall time as the intended one."""
    from ..core.timecalc import TimeError, parse_wall_instant

    if raw is None:
        return None
    try:
        return parse_wall_instant(raw, zone)
    except (TimeError, OverflowError) as exc:  # OverflowError: an instant at the calendar's end
        raise UsageError(
            f"{option}: {exc}", hint="use ISO-8601, e.g. 2026-01-31T09:00:00+01:00"
        ) from None


def checked_attributes(settings: Any, attrs: Any) -> dict[str, Any]:
    """Attributes that pass instanceValidation; otherwise every failing path on stderr, exit 1."""
    from ..core.attributes import attribute_problems
    from ..errors import StrategyError

    attrs = {} if attrs is None else attrs
    problems = attribute_problems(settings, attrs)
    if problems:
        raise StrategyError(
            f"attributes do not match instanceValidation ({len(problems)} problem(s)); "
            "nothing was stored",
            details=tuple(problems),
        )
    return attrs  # type: ignore[no-any-return]


CallbacksOption = Annotated[
    list[str] | None,
    typer.Option(
        "--callbacks",
        help="Python module (or .py file) with callbacks; repeatable; adds to the project's.",
    ),
]


def project_callbacks(modules: list[str] | None = None, env: str | None = None) -> Any:
    """The project's configured callback modules (found upward from here) plus `modules`."""
    from ..adapters.callbacks import load_callbacks
    from ..adapters.config import config_for

    config = config_for(Path.cwd())
    search = [str(config.path.parent)] if config.path else []
    return load_callbacks([*config.callbacks, *(modules or [])], env, search)


MaxFileSizeOption = Annotated[
    str | None,
    typer.Option(
        "--max-file-size",
        help="Strategy files larger than this are reported, not read: bytes, or 500k, 5MB "
        "(default 5MB).",
        metavar="<size>",
    ),
]


def max_file_bytes(raw: str | None) -> int:
    """The --max-file-size value in bytes (the default when not given)."""
    from ..core.limits import MAX_FILE_BYTES, parse_size

    if raw is None:
        return MAX_FILE_BYTES
    try:
        return parse_size(raw)
    except ValueError as exc:
        raise UsageError(f"--max-file-size: {exc}") from None


def refuse_unused(mode: str, given: dict[str, object], hint: str) -> None:
    """A usage error (exit 2) naming every option given that `mode` does not use: an option
    silently ignored would let a user believe it applied."""
    unused = [name for name, value in given.items() if value not in (None, False)]
    if unused:
        raise UsageError(f"{mode} does not use {' or '.join(unused)}", hint=hint)
