"""`instance create --callbacks` and the project's configured callbacks reach the engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

STRATEGY = {
    "name": "welcome-flow",
    "settings": {
        "schedule": {
            "calendars": [
                {"key": "monthly", "scheduleAfter": {"unit": "months", "amount": 1}, "task": "bill"}
            ]
        },
        "onCreateTasks": [{"task": "welcome", "createIf": "wants_welcome"}],
        "services": [
            {
                "key": "api",
                "baseUrls": [{"environment": "prod", "url": "https://api.example.com"}],
                "methods": [{"key": "post", "url": "/x", "method": "post"}],
            }
        ],
        "tasks": [
            {
                "key": "bill",
                "steps": [{"key": "go", "action": "call", "final": True}],
                "initialStep": "go",
            },
            {
                "key": "welcome",
                "steps": [{"key": "go", "action": "call", "final": True}],
                "initialStep": "go",
            },
        ],
        "actions": [{"key": "call", "service": "api", "method": "post"}],
    },
}


def strategy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strategy_cli", *args, "--db", str(tmp_path / "s.db")],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip


def tasks_of(tmp_path: Path, sid: str) -> list[str]:
    proc = strategy(tmp_path, "instance", "tasks", sid, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return sorted(e["task"] for e in json.loads(proc.stdout))


def test_create_if_comes_from_the_callbacks_module(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump(STRATEGY), encoding="utf-8")
    (tmp_path / "hooks.py").write_text(
        "def wants_welcome(ctx):\n    return False\n", encoding="utf-8"
    )
    plain = strategy(tmp_path, "instance", "create", "flow.yaml")
    assert plain.returncode == 0, plain.stderr
    assert tasks_of(tmp_path, plain.stdout.strip()) == ["bill", "welcome"]  # default: created

    hooked = strategy(tmp_path, "instance", "create", "flow.yaml", "--callbacks", "hooks")
    assert hooked.returncode == 0, hooked.stderr
    assert tasks_of(tmp_path, hooked.stdout.strip()) == ["bill"]


def test_project_configuration_names_the_module(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump(STRATEGY), encoding="utf-8")
    (tmp_path / "hooks.py").write_text(
        "def wants_welcome(ctx):\n    return False\n", encoding="utf-8"
    )
    (tmp_path / ".strategy.toml").write_text('callbacks = ["hooks"]\n', encoding="utf-8")
    created = strategy(tmp_path, "instance", "create", "flow.yaml")
    assert created.returncode == 0, created.stderr
    assert tasks_of(tmp_path, created.stdout.strip()) == ["bill"]


def test_a_module_that_cannot_be_imported_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump(STRATEGY), encoding="utf-8")
    proc = strategy(tmp_path, "instance", "create", "flow.yaml", "--callbacks", "no_such_module")
    assert proc.returncode == 2
    assert "no_such_module" in proc.stderr and "Traceback" not in proc.stderr
