"""The worked examples in docs/*.md run: each strategy is simulated and its events must be the
ones the page lists, so the docs cannot drift from the tool.

A page marks its examples with comments on the first lines of fenced blocks:

    ```yaml
    # example: NAME
    # simulate: --start 2027-01-31T09:00:00 --cycles 3
    name: ...
    ```

    ```yaml
    # scenario: NAME         (a scenario file, passed as `--scenario NAME`)
    ```

    ```text
    # expect: NAME
    2027-02-28T09:00:00+01:00  charge  PROCESSED  1
    ```

An expect block lists every event of the simulation, in date order: date, task, status, attempt.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("docs/semantics.md", "docs/scenarios.md")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_MARK = re.compile(r"#\s*(example|scenario|expect|simulate):\s*(.*)")


@dataclass
class Example:
    page: str
    name: str
    source: str = ""
    args: list[str] = field(default_factory=list)
    expect: list[str] | None = None


def examples(page: str) -> tuple[dict[str, Example], dict[str, str]]:
    found: dict[str, Example] = {}
    scenarios: dict[str, str] = {}
    for _lang, body in _FENCE.findall((ROOT / page).read_text(encoding="utf-8")):
        marks = [_MARK.match(line.strip()) for line in body.splitlines()[:2]]
        tags = {m.group(1): m.group(2).strip() for m in marks if m}
        if "example" in tags:
            ex = found.setdefault(tags["example"], Example(page, tags["example"]))
            ex.source, ex.args = body, shlex.split(tags.get("simulate", ""))
        elif "scenario" in tags:
            scenarios[tags["scenario"]] = body
        elif "expect" in tags:
            ex = found.setdefault(tags["expect"], Example(page, tags["expect"]))
            ex.expect = [" ".join(line.split()) for line in body.splitlines()[1:] if line.strip()]
    return found, scenarios


def simulate(ex: Example, scenarios: dict[str, str], tmp: Path) -> list[str]:
    (tmp / "strategy.yaml").write_text(ex.source, encoding="utf-8")
    args = list(ex.args)
    if "--scenario" in args:
        i = args.index("--scenario") + 1
        (tmp / "scenario.yaml").write_text(scenarios[args[i]], encoding="utf-8")
        args[i] = str(tmp / "scenario.yaml")
    cmd = [sys.executable, "-m", "strategy_cli", "simulate", str(tmp / "strategy.yaml"), *args]
    out = subprocess.run(
        [*cmd, "--format", "json", "--db", ":memory:"], capture_output=True, text=True, cwd=tmp
    )
    assert out.returncode == 0, f"{ex.page} example {ex.name}: {out.stderr}"
    events = json.loads(out.stdout)["events"]
    return [f"{e['date']} {e['task']} {e['status']} {e['attempt']}" for e in events]


def _cases() -> list[tuple[Example, dict[str, str]]]:
    cases = []
    for page in PAGES:
        found, scenarios = examples(page)
        cases += [(ex, scenarios) for ex in found.values()]
    return cases


@pytest.mark.parametrize("ex,scenarios", _cases(), ids=lambda v: getattr(v, "name", ""))
def test_example_simulates_as_documented(
    ex: Example, scenarios: dict[str, str], tmp_path: Path
) -> None:
    assert ex.source, f"{ex.page}: expect block '{ex.name}' has no example"
    assert ex.expect is not None, f"{ex.page}: example '{ex.name}' has no expect block"
    assert simulate(ex, scenarios, tmp_path) == ex.expect


def test_every_page_has_examples() -> None:
    for page in PAGES:
        assert examples(page)[0], f"{page} has no runnable example"


if __name__ == "__main__":  # print what each example simulates to, for writing expect blocks
    import tempfile

    for ex, scenarios in _cases():
        with tempfile.TemporaryDirectory() as d:
            print(f"# expect: {ex.name}")
            print("\n".join(simulate(ex, scenarios, Path(d))))
