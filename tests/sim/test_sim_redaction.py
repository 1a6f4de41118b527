"""Simulated requests are shown and stored: secret headers never appear in them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FILE = Path(__file__).with_name("secret-headers.yaml")


def test_secret_headers_are_redacted_in_simulated_requests(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = subprocess.run(
        [sys.executable, "-m", "strategy_cli", "simulate", str(FILE), "--cycles", "1",
         "-a", '{"token": "tok-very-secret"}', "--db", str(db), "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (event,) = doc["events"]
    headers = event["taskStatus"]["taskResults"][0]["httpData"]["request"]["headers"]
    # by name, config.redact, and a name with a credential word
    assert headers == {"Authorization": "***", "X-Partner-Token": "***", "X-Auth-Token": "***"}
    stored = db.read_bytes() + (
        db.with_name("s.db-wal").read_bytes() if db.with_name("s.db-wal").exists() else b""
    )
    assert stored.count(b"Bearer tok-very-secret") == 0
