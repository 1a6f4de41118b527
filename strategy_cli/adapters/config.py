"""Project configuration: `[tool.strategy]` in pyproject.toml, or `.strategy.toml`, found upward.

```toml
[tool.strategy]              # or top-level keys in .strategy.toml
callbacks = ["my_callbacks"]
max-response-bytes = 10485760  # `run`: a larger response body fails its attempt
[tool.strategy.rules]
implicit-end = "off"         # "error", "warning" or "off"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..core.lint.policy import Policy
from ..core.rules_registry import RULES
from ..errors import UsageError

_SETTINGS = ("error", "warning", "off")
# A response body is read up to this many bytes (10 MiB): bigger fails the attempt.
MAX_RESPONSE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None = None
    rules: dict[str, str] = field(default_factory=dict)
    callbacks: tuple[str, ...] = ()
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def policy(self, strict: bool = False) -> Policy:
        return Policy(rules=dict(self.rules), strict=strict)  # type: ignore[arg-type]


def config_for(target: Path) -> ProjectConfig:
    """The configuration that applies to a file or folder (the nearest one upward)."""
    start = target.resolve()
    return _config_in(start if start.is_dir() else start.parent)


@lru_cache(maxsize=256)
def _config_in(folder: Path) -> ProjectConfig:
    for candidate in (folder, *folder.parents):
        dot = candidate / ".strategy.toml"
        if dot.is_file():
            return _parse(dot, _read(dot))
        py = candidate / "pyproject.toml"
        if py.is_file():
            tool = _read(py).get("tool", {})
            section = tool.get("strategy") if isinstance(tool, dict) else None
            if isinstance(section, dict):
                return _parse(py, section)
            if section is not None or not isinstance(tool, dict):
                raise UsageError(f"{py}: `tool.strategy` must be a table: [tool.strategy]")
    return ProjectConfig()


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read configuration: {exc}") from None


def _parse(path: Path, section: dict[str, Any]) -> ProjectConfig:
    rules = section.get("rules", {})
    if not isinstance(rules, dict):
        raise UsageError(f'{path}: [rules] must be a table of rule = "error|warning|off"')
    for rule, setting in rules.items():
        if rule not in RULES:
            raise UsageError(f"{path}: unknown rule '{rule}'", hint="see `strategy rules`")
        if setting not in _SETTINGS:
            raise UsageError(f"{path}: rule '{rule}' must be one of {', '.join(_SETTINGS)}")
    callbacks = section.get("callbacks", [])
    if not isinstance(callbacks, list) or not all(isinstance(c, str) for c in callbacks):
        raise UsageError(f"{path}: callbacks must be a list of module names")
    return ProjectConfig(
        path=path,
        rules=dict(rules),
        callbacks=tuple(callbacks),
        max_response_bytes=_max_response_bytes(path, section),
    )


def _max_response_bytes(path: Path, section: dict[str, Any]) -> int:
    value = section.get("max-response-bytes", MAX_RESPONSE_BYTES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{path}: max-response-bytes must be a whole number of bytes, 1 or more")
    return value
