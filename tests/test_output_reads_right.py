"""Human output that reads right (issue 12, section 5): one date-time format in every command,
a timeline that never cuts a date, a status or an attempt number at 80 or 100 columns, offsets
in the unit the strategy wrote, attempt 1 never called a retry, a platform's `null` as `-`.

Every command runs through the real main() (tests/clikit.py); the remote one against the
loopback emulator of the platform (tests/remote_servers.py).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from clikit import Result, run_main
from conftest import SAMPLES
from hypothesis import given
from hypothesis import strategies as st
from remote_servers import INSTANCE_SID, platform_emulator, platform_events, run_cli, serving

from strategy_cli.cli.datetimes import human_time, human_times_in
from strategy_cli.core.models import Delay
from strategy_cli.core.schedule import UNIT_MARK, written_offset

LOAN = SAMPLES / "loan-collection.yaml"
ONBOARDING = SAMPLES / "onboarding.yaml"
LOAN_ATTRS = {
    "loanId": "L1",
    "customerEmail": "a@b.c",
    "firstDueDate": "2026-01-31T09:00:00+01:00",
    "amountCents": 1000,
}
WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
HUMAN = re.compile(rf"{WEEKDAY} \d{{4}}-\d\d-\d\d \d\d:\d\d(?: [+-]\d\d:\d\d| [A-Z]{{2,5}})?")
# Anything that looks like a date and a time, in whatever notation.
ANY_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
STATUSES = "PROCESSED|FAILED|CANCELED|PAUSED|ONHOLD|PENDING|QUEUED|EXECUTING"
# A whole event row of the timeline, or a row of one of its attempts: nothing cut.
EVENT_ROW = re.compile(
    rf"^{HUMAN.pattern} +(?:[-+]?\d+(?:y|mo|d|h|m)\S*)? +\S.* +"
    rf"(?:leading-up|main|on-cancel|on-create) +(?:{STATUSES}) +\d+$"
)
ATTEMPT_ROW = re.compile(rf"^  ↳ {HUMAN.pattern} +(?:attempt|retry) +FAILED +\d+$")


# What the loan sample's dry run reads from the environment.
SANDBOX = {"PAYMENTS_CLIENT_ID": "id", "PAYMENTS_CLIENT_SECRET": "pw", "LOAN_STRATEGY_SECRET": "s"}


def cli(*args: str | Path, columns: int = 100) -> Result:
    return run_main(*args, env={"COLUMNS": str(columns), "NO_COLOR": "1", **SANDBOX})


def failing_charge(tmp_path: Path) -> Path:
    """Every charge fails after the first: the loan's retry ladder, then its pause."""
    path = tmp_path / "fail.yaml"
    path.write_text("outcomes:\n  charge.collect: [ok, fail, fail, fail, fail]\n", "utf-8")
    return path


def simulate_loan(tmp_path: Path, cycles: int, columns: int, *extra: str) -> Result:
    return cli(
        "simulate", LOAN, "--cycles", str(cycles), "--start", "2026-01-10T12:00Z",
        "-a", json.dumps(LOAN_ATTRS), "--scenario", failing_charge(tmp_path),
        "--db", ":memory:", *extra, columns=columns,
    )  # fmt: skip


# --- the timeline at 80 and 100 columns -----------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 100])
def test_the_loan_timeline_fits_and_cuts_nothing(tmp_path: Path, columns: int) -> None:
    result = simulate_loan(tmp_path, 12, columns)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= columns, result.out
    doc = simulate_loan(tmp_path, 12, columns, "--format", "json").json()

    rows = [line for line in lines if re.match(WEEKDAY, line)]
    attempts = [line for line in lines if line.startswith("  ↳")]
    assert all(EVENT_ROW.match(row) for row in rows), "\n".join(rows)
    assert all(ATTEMPT_ROW.match(row) for row in attempts), "\n".join(attempts)
    # One whole row per event, its status and attempt count as stored.
    assert len(rows) == len(doc["events"])
    for row, event in zip(rows, doc["events"], strict=True):
        assert row.split()[-2:] == [event["status"], str(event["attempt"])], row
        assert row.startswith(human_time(event["date"], ZoneInfo("Europe/Berlin")))
    # Attempt 1 is an attempt, every later one a retry; each message on its own line below.
    for at, row in enumerate(lines):
        if row.startswith("  ↳"):
            number = int(row.split()[-1])
            assert row.split()[-3] == ("attempt" if number == 1 else "retry"), row
            assert lines[at + 1].startswith("      scripted failure"), lines[at + 1]
    assert attempts, result.out


def test_a_long_message_wraps_on_its_own_lines(tmp_path: Path) -> None:
    words = " ".join(["the payment service answered with a long explanation"] * 4)
    scenario = tmp_path / "long.yaml"
    outcome = {"ok": False, "message": words}
    scenario.write_text(yaml.safe_dump({"outcomes": {"charge.collect": [outcome] * 5}}), "utf-8")
    result = cli(
        "simulate", LOAN, "--cycles", "1", "--start", "2026-01-10T12:00Z",
        "-a", json.dumps(LOAN_ATTRS), "--scenario", scenario, "--db", ":memory:", columns=80,
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80, result.out
    message = [line for line in lines if line.startswith("      ") and "payment" in line]
    assert len(message) >= 4 * 3, result.out  # four failed attempts, each wrapped, not cut
    assert " ".join(part.strip() for part in message).count("long explanation") == 4 * 4
    assert all(line == line.rstrip() for line in lines), result.out


# --- offsets in the unit written (the timeline rows: tests/sim/test_sim_offsets.py) -----------


@given(
    st.sampled_from(sorted(UNIT_MARK)), st.integers(min_value=0, max_value=10_000), st.booleans()
)
def test_a_written_offset_reads_back_as_written(unit: str, amount: int, before: bool) -> None:
    text = written_offset(Delay(unit=unit, amount=amount), sign=-1 if before else 1)
    assert text == (f"0{UNIT_MARK[unit]}" if amount == 0 else f"{'-' if before else '+'}{amount}"
                    f"{UNIT_MARK[unit]}")  # fmt: skip
    with_reset = Delay.model_validate({"unit": unit, "amount": amount, "resetTo": {"hour": 9}})
    assert written_offset(with_reset, sign=-1) == ""  # not a plain offset: worked out instead


# --- one date-time format in every command --------------------------------------------------------


def human_dates_only(text: str, where: str, data: frozenset[str] = frozenset()) -> list[str]:
    """Every date-time in `text` is in the human format (weekday, date, time), but for `data`
    (attributes, shown as written); returns them."""
    found = []
    for match in ANY_DATE_TIME.finditer(text):
        if match.group() in data:
            continue
        start = max(0, match.start() - 4)
        whole = HUMAN.match(text, start)
        assert whole and "T" not in match.group(), f"{where}: {match.group()!r} in\n{text}"
        found.append(whole.group())
    return found


def test_every_command_shows_the_same_date_time_format(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    outputs: dict[str, str] = {}

    def keep(where: str, *args: str | Path) -> Result:
        result = cli(*args, "--db", db) if args[0] != "simulate" else cli(*args)
        assert result.code == 0, (where, result.text)
        outputs[where] = result.out
        return result

    past = "2026-01-10T12:00:00+01:00"
    attrs = json.dumps(LOAN_ATTRS)
    keep("simulate", "simulate", LOAN, "--cycles", "2", "--start", past, "-a", attrs, "--db",
         ":memory:")  # fmt: skip
    keep("simulate table", "simulate", LOAN, "--cycles", "2", "--start", past, "-a", attrs,
         "--db", ":memory:", "--format", "table")  # fmt: skip
    create = ("instance", "create", LOAN, "-a", attrs, "--start", past, "--format", "json")
    sid = json.loads(keep("create", *create).out)["sid"]
    keep("instance timeline", "instance", "timeline", sid)
    keep("instance tasks", "instance", "tasks", sid)
    keep("instance list", "instance", "list")
    keep("list", "list")
    keep("instance show", "instance", "show", sid)
    keep("run --dry-run", "run", "--dry-run", "--env", "sandbox")
    keep("pause", "instance", "pause", sid)
    keep("resume", "instance", "resume", sid)
    keep("skip-cycle", "instance", "skip-cycle", sid)
    onboarding_attrs = {
        "merchantId": "m-1", "legalName": "ACME GmbH", "registrationNumber": "HRB 1",
        "country": "DE", "email": "ops@acme.example", "signedUpAt": "2026-03-02T10:00:00Z",
    }  # fmt: skip
    other = ("instance", "create", ONBOARDING, "-a", json.dumps(onboarding_attrs), "--start",
             "2026-03-02T10:00:00Z", "--format", "json")  # fmt: skip
    second = json.loads(keep("create onboarding", *other).out)["sid"]
    tasks = cli("instance", "tasks", second, "--db", db, "--format", "json").json()
    held = next(t for t in tasks if t["status"] == "ONHOLD")
    keep("event show", "event", "show", held["sid"])
    keep("event trigger", "event", "trigger", held["sid"])
    keep("cancel", "instance", "cancel", sid)

    for where in ("create", "create onboarding"):  # JSON, with RFC 3339
        assert "T" in json.loads(outputs.pop(where))["startDate"]
    data = frozenset({LOAN_ATTRS["firstDueDate"], onboarding_attrs["signedUpAt"]})
    for where, text in outputs.items():
        assert human_dates_only(text, where, data), f"{where} shows no date-time:\n{text}"
    # The instance list says each strategy's own zone, with its offset: no zone in its header.
    assert re.search(r" [+-]\d\d:\d\d", outputs["instance list"]), outputs["instance list"]
    assert "UTC)" not in outputs["instance list"]


def test_the_format_names_the_zone_only_where_the_header_does_not() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    winter = "2026-01-31T08:00:00Z"
    assert human_time(winter, berlin) == "Sat 2026-01-31 09:00"
    assert human_time(winter, berlin, named=False) == "Sat 2026-01-31 09:00 +01:00"
    assert human_time("2026-07-01T07:00:00+00:00", berlin, named=False).endswith("09:00 +02:00")
    # The hour a DST fold repeats: which of the two it is.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert human_time(first, berlin) == "Sun 2026-10-25 02:30 CEST"
    assert human_time(second, berlin) == "Sun 2026-10-25 02:30 CET"


# --- a platform's null ----------------------------------------------------------------------------


def test_absent_values_from_the_platform_read_as_a_dash() -> None:
    secret = "s3cr3t-VALUE-xyz-123"
    events = copy.deepcopy(platform_events(secret))
    for event in events:
        # `main` the get-tasks shape requires; these it lets the platform leave out.
        event.update(attempt=None, createdCycle=None, afterCancellation=None, data=None)
    with serving(platform_emulator(secret, events=events)) as server:
        result = run_cli(
            "instance", "tasks", INSTANCE_SID, "--api-url", server.url, "--secret", secret
        )
    assert result.code == 0, result.err
    assert "None" not in result.out, result.out
    rows = [line.split() for line in result.out.splitlines() if re.match(r"\s*" + WEEKDAY, line)]
    assert len(rows) == 2, result.out
    for words in rows:  # date, task, kind, status, try, cycle, sid
        assert words[-3:-1] == ["-", "-"], words
    assert human_dates_only(result.out, "remote tasks")


def test_json_keeps_rfc_3339(tmp_path: Path) -> None:
    doc = simulate_loan(tmp_path, 2, 80, "--format", "json").json()
    for event in doc["events"]:
        assert datetime.fromisoformat(event["date"]).tzinfo is not None
        assert "T" in event["date"]


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(
        ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
    ),
)
def test_the_format_reads_back_as_the_same_minute(instant: datetime, name: str) -> None:
    zone = ZoneInfo(name)
    text = human_time(instant, zone, named=False)
    assert HUMAN.fullmatch(text), text
    back = datetime.strptime(text, "%a %Y-%m-%d %H:%M %z")
    assert back == instant.replace(second=0, microsecond=0)
    # In a message, an RFC 3339 instant reads the same way (the timeline's notes).
    assert human_times_in(f"at {instant.isoformat()}.", zone) == f"at {human_time(instant, zone)}."
