"""Offsets of leading-up events in the timeline are in the unit the strategy wrote: `-24h` stays
hours and `-1d` stays a day across a DST change; zero is `0d`, never `+0d`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from simkit import cli, strategy, write

WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"


def offsets_strategy(tmp_path: Path) -> Path:
    """Leading-ups 24 hours, 1 day and 90 minutes before a daily main, in Berlin."""
    leads = [
        {"task": "lead", "scheduleBefore": {"unit": "hours", "amount": 24}},
        {"task": "lead", "scheduleBefore": {"unit": "days", "amount": 1}},
        {"task": "lead", "scheduleBefore": {"unit": "minutes", "amount": 90}},
    ]
    calendar = {
        "key": "c", "scheduleAfter": {"unit": "days", "amount": 1}, "task": "t",
        "leadingUpTasks": leads,
    }  # fmt: skip
    return write(tmp_path, strategy([calendar], tz="Europe/Berlin"))


def timeline(tmp_path: Path, cycles: int, start: str) -> Any:
    """The strategy's timeline at 80 columns, checked to fit."""
    result = cli(
        "simulate", offsets_strategy(tmp_path), "--cycles", str(cycles),
        "--start", start, "--db", ":memory:", env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.code == 0, result.err
    assert max(len(line) for line in result.out.splitlines()) <= 80, result.out
    return result


def test_offsets_keep_the_unit_written_across_a_dst_change(tmp_path: Path) -> None:
    # Cycle 2's main is on 03-29 09:00, Berlin's spring-forward day: 24 hours before it is
    # 08:00 on the 28th, a day before it 09:00.
    result = timeline(tmp_path, 3, "2026-03-27T09:00:00")
    rows = [line.split() for line in result.out.splitlines() if re.match(WEEKDAY, line)]
    offsets = [words[3] for words in rows]
    assert offsets == ["-24h", "-1d", "-90m", "0d"] * 3, result.out
    assert "+0d" not in result.out and "-25h" not in result.out and "-23h" not in result.out
    by_offset = {words[3]: words[1:3] for words in rows[4:8]}  # cycle 2
    assert by_offset["0d"] == ["2026-03-29", "09:00"], result.out
    assert by_offset["-24h"] == ["2026-03-28", "08:00"], result.out  # 24 elapsed hours
    assert by_offset["-1d"] == ["2026-03-28", "09:00"], result.out  # the same wall time


def test_a_note_quotes_its_instant_in_the_human_format(tmp_path: Path) -> None:
    # Starting at 09:00 on the 28th, cycle 1's 24-hours-before (08:00) falls before the start.
    result = timeline(tmp_path, 1, "2026-03-28T09:00:00")
    lines = result.out.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line == "note [leading-up-skipped]"]
    message = " ".join(line.strip() for line in lines[at + 1 :] if line.startswith("      "))
    assert "would fall on Sat 2026-03-28 08:00, before" in message, result.out
    # The date-time stays whole on one line, and nothing shows its RFC 3339 form.
    assert any("Sat 2026-03-28 08:00" in line for line in lines[at + 1 :]), result.out
    assert "T08:00" not in result.out, result.out
