"""The one human date-time format of every command: `Sat 2026-01-31 09:00`.

An instant is shown in a zone (the strategy's): where the output names that zone in its header,
the wall time alone says it all (but an hour that a DST fold repeats, which gets the zone's
abbreviation, `Sun 2026-10-25 02:30 CET`); where it does not, the UTC offset follows
(`Sat 2026-01-31 09:00 +01:00`). JSON keeps RFC 3339: this is for people only.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import datetime, tzinfo
from typing import Any

FORMAT = "%a %Y-%m-%d %H:%M"


def instant_of(value: str | datetime) -> datetime:
    """An RFC 3339 text (a `Z` or lower-case `z` included) or an aware datetime, as a datetime."""
    if isinstance(value, datetime):
        return value
    # Not timecalc.parse_rfc3339: that one upper-cases a text it cannot read (a lower-case week
    # date would then show as an instant); what a record shows as an instant stays as it was.
    text = str(value).strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:  # a wall time is no instant: which zone would it be in?
        raise ValueError(f"{value!r} has no offset")
    return instant


def human_time(value: str | datetime, zone: tzinfo | None = None, *, named: bool = True) -> str:
    """`value` in `zone` (None: its own offset). `named`: the output's header names `zone`."""
    local = instant_of(value)
    if zone is not None:
        local = local.astimezone(zone)
    text = local.strftime(FORMAT)
    if not named or zone is None:
        return f"{text} {local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"
    if _repeated(local):
        return f"{text} {local.tzname()}"
    return text


def _repeated(local: datetime) -> bool:
    """A wall time that a DST fold shows twice: the zone's abbreviation tells which one."""
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def humanized(record: dict[str, Any], zone: tzinfo | None) -> dict[str, Any]:
    """A record for `show`: its own instants (`date`, `...At`, `...Date`, the next event's) in
    the human format; attributes and step results are data and stay as they were written."""
    out = dict(record)
    for key, value in record.items():
        if key == "nextEvent" and isinstance(value, dict):
            out[key] = humanized(value, zone)
        elif isinstance(value, str) and (key == "date" or key.endswith(("At", "Date"))):
            with suppress(ValueError):  # not an instant after all: shown as it is
                out[key] = human_time(value, zone, named=False)
    return out


# An RFC 3339 instant inside a message (the engine's notes write them so, for JSON).
_INSTANT = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[Zz]|[+-]\d\d:\d\d)")


def human_times_in(message: str, zone: tzinfo | None, space: str = " ") -> str:
    """`message` with each instant it quotes in the human format, in `zone` (the header's);
    `space` between a date-time's parts (a character wrapping does not break at)."""

    def human(match: re.Match[str]) -> str:
        try:
            return human_time(match.group(), zone).replace(" ", space)
        except ValueError:
            return match.group()

    return _INSTANT.sub(human, message)
