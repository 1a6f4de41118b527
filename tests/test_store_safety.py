"""The store on a bad day: corrupt, read-only, on a full disk.

Read-only is real here: the CLI runs as a child process that may not write the file or its
folder. Tests run as root, whom permissions do not stop, so as root the child runs without
the capabilities that let root ignore them (`setpriv`); as any other user `chmod` suffices.
A full disk is a real one too: a small tmpfs, filled to the last byte.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fill_device
from servers import PAST, RunKit, strategy_doc

from strategy_cli.adapters.store import Store

NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def strategy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`strategy ARGS` as a process that file permissions bind (root included)."""
    return bound("strategy_cli", *args, cwd=cwd)


def bound(module: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` as a process that file permissions bind (root included)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = NO_OVERRIDE
    return subprocess.run(
        [*prefix, sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, **env},
    )


def stored(tmp_path: Path) -> tuple[RunKit, str]:
    """A store with one strategy and one instance (pending events), its folder holding
    nothing else: no WAL or journal left behind."""
    folder = tmp_path / "store"
    folder.mkdir()
    kit = RunKit(folder)
    (sid,) = kit.create(strategy_doc("ro", "http://127.0.0.1:9"), {"id": "a"})
    for path in folder.iterdir():
        if path != kit.db:
            path.unlink()
    return kit, sid


def read_commands(sid: str) -> list[list[str]]:
    return [
        ["list"],
        ["show", "ro"],
        ["instance", "list"],
        ["instance", "show", sid],
        ["instance", "tasks", sid, "--format", "json"],
        ["instance", "timeline", sid],
        ["run", "--dry-run"],
        ["doctor"],
    ]


def write_commands(sid: str, tmp_path: Path) -> list[list[str]]:
    doc = tmp_path / "another.json"
    doc.write_text(json.dumps(strategy_doc("another", "http://127.0.0.1:9")), encoding="utf-8")
    lines = tmp_path / "instances.jsonl"
    lines.write_text(json.dumps({"attributes": {"id": "b"}, "start": PAST}) + "\n")
    return [
        ["instance", "pause", sid],
        ["apply", str(doc)],
        ["simulate", str(doc), "--attributes", '{"id": "c"}'],
        ["simulate", str(doc), "--instances-file", str(lines)],
    ]


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_commands_work_on_a_read_only_store(tmp_path: Path, what: str) -> None:
    kit, sid = stored(tmp_path)
    before = kit.db.read_bytes()
    locked = kit.db if what == "file" else kit.folder
    mode = locked.stat().st_mode
    locked.chmod(0o444 if what == "file" else 0o555)
    try:
        for command in read_commands(sid):
            proc = strategy(*command, "--db", str(kit.db), cwd=tmp_path)
            assert proc.returncode == 0, (command, proc.stderr)
            assert "error" not in proc.stderr, (command, proc.stderr)
        wrote = [
            strategy(*command, "--db", str(kit.db), cwd=tmp_path)
            for command in write_commands(sid, tmp_path)
        ]
    finally:
        locked.chmod(mode)
    for proc in wrote:
        assert proc.returncode == 1, proc.args
        assert proc.stderr.splitlines()[0] == (
            f"error: {kit.db}: the store is read-only (its file or folder is not writable) and "
            "this command writes to it; nothing was changed"
        ), proc.args
        assert "Traceback" not in proc.stderr
    assert kit.db.read_bytes() == before  # not one byte written, not even a WAL switch
    if what == "folder":
        assert sorted(p.name for p in kit.folder.iterdir()) == ["store.db"]


def test_completion_reads_a_store_in_a_read_only_folder(tmp_path: Path) -> None:
    kit, sid = stored(tmp_path)
    kit.folder.chmod(0o555)
    try:
        words = ["3", "strategy", "instance", "show", sid[:4]]
        proc = bound("strategy_cli.complete", *words, cwd=tmp_path, STRATEGY_DB=str(kit.db))
    finally:
        kit.folder.chmod(0o755)
    assert proc.stdout.split() == [sid]


def test_a_read_only_store_of_an_older_schema_is_read_without_migrating(tmp_path: Path) -> None:
    kit, sid = stored(tmp_path)
    with sqlite3.connect(kit.db) as conn:
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    kit.folder.chmod(0o555)
    try:
        listed = strategy("instance", "show", sid, "--db", str(kit.db), cwd=tmp_path)
        doctor = strategy("doctor", "--db", str(kit.db), cwd=tmp_path)
    finally:
        kit.folder.chmod(0o755)
    assert listed.returncode == 0, listed.stderr
    assert sid in listed.stdout
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "(schema 1) ok (read-only)" in doctor.stdout
    with sqlite3.connect(kit.db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)  # not migrated
    conn.close()


def test_doctor_reports_a_corrupt_store(tmp_path: Path) -> None:
    db = tmp_path / "corrupt.db"
    with Store(db) as store:
        store.put_events(
            {"sid": f"e{i:05}", "instanceSid": f"i{i % 50}", "status": "PENDING",
             "task": "work", "date": "2026-01-01T00:00:00Z", "note": "x" * 500}
            for i in range(2000)
        )  # fmt: skip
    healthy = strategy("doctor", "--db", str(db), cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert f"store: {db} (schema 2) ok" in healthy.stdout

    size = db.stat().st_size
    with db.open("r+b") as handle:  # a few KB of garbage in the middle of the file
        handle.seek(size // 2)
        handle.write(b"\xff" * 3000)
    ill = strategy("doctor", "--db", str(db), cwd=tmp_path)
    assert ill.returncode == 1
    lines = ill.stdout.splitlines()
    (summary,) = [line for line in lines if line.startswith("store: ")]
    problems = [line for line in lines if line.startswith("  problem: ")]
    assert summary.startswith(f"store: {db} (schema 2) store is corrupt (")
    assert f"({len(problems)} problem(s))" in summary
    assert problems and any("malformed" in p or "page" in p for p in problems)
    assert "Traceback" not in ill.stderr

    as_json = strategy("doctor", "--db", str(db), "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 1

    report = json.loads(as_json.stdout)["store"]
    assert report["ok"] is False
    assert [f"  problem: {p}" for p in report["problems"]] == problems


def test_doctor_reports_a_store_without_its_tables(tmp_path: Path) -> None:
    db = tmp_path / "gutted.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE events")
    conn.close()
    proc = strategy("doctor", "--db", str(db), cwd=tmp_path)
    assert proc.returncode == 1
    assert "  problem: table 'events' is missing" in proc.stdout.splitlines()


def test_a_full_disk_says_disk_is_full(small_tmpfs: Path) -> None:
    kit = RunKit(small_tmpfs)
    (sid,) = kit.create(strategy_doc("full", "http://127.0.0.1:9"), {"id": "a"})
    fill_device(small_tmpfs)
    doc = strategy_doc("another", "http://127.0.0.1:9")
    doc["description"] = "x" * 300_000  # more than a WAL page or two: needs new space
    path = small_tmpfs.parent / "another.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = kit.cli("apply", str(path), "--db", str(kit.db))
    assert result.code == 1, result.text
    assert result.err == f"error: {kit.db}: disk is full; free some space and try again\n"
    (small_tmpfs / "filler").unlink()  # space again: the store is as it was
    after = kit.cli("instance", "show", sid, "--db", str(kit.db))
    assert after.code == 0, after.text
    listed = kit.cli("list", "--db", str(kit.db))
    assert "another" not in listed.out
