"""The README's five-minute tour runs verbatim on a fresh clone and shows what it promises.

The console block is run by bash, as a new user would paste it, from a folder that holds the
repository's sample strategies, with the default store in the test's own folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## A five-minute tour")
    match = re.search(r"```console\n(.*?)```", readme[start:], re.S)
    assert match, "the tour has no console block"
    return match.group(1)


def test_the_tour_runs_verbatim_and_shows_what_it_promises(tmp_path: Path) -> None:
    (tmp_path / "sample-strategies").symlink_to(ROOT / "sample-strategies")
    bin_dir = str(Path(sys.executable).parent)  # where `pip install` put `strategy`
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "NO_COLOR": "1"}
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tour_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ok: 1 file(s), 0 error(s)" in out  # 1. lint
    assert '"errors": 0' in out
    assert out.count("scripted failure") == 2  # 2. the charge fails twice in cycle 2
    assert (tmp_path / "plan.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert "PENDING -> PAUSED" in out and "PAUSED -> PENDING" in out  # 5. steer
    # 6. the dry run shows every due event's request, and says nothing was sent
    assert "POST https://sandbox.mail.example.com/messages" in out
    assert "POST https://sandbox.payments.example.com/v2/loans/charges" in out
    assert "dry run: 2 due event(s); nothing was sent or changed" in out
    assert "demo-secret" not in out + proc.stderr
