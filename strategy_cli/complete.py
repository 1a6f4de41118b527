"""Shell completion, fast: the scripts in completions/ call `strategy-complete`.

The command tree (subcommands, options, enum values, what each argument is) comes from
`completion_spec.json`, generated from the app by `python scripts/gen_completions.py`; dynamic
values (instance sids, event sids, strategy names) are read straight from the store with the
standard library's sqlite3. No typer, rich or pydantic import: a TAB answers in tens of ms.
Completion must never fail loudly, so every problem yields no candidates.

    strategy-complete CWORD WORD0 WORD1 ...   # the words of the line, CWORD = index being completed
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

FILES = "__files__"  # tells the shell script to complete file paths itself
SPEC_PATH = Path(__file__).with_name("completion_spec.json")
_QUERIES = {
    "instance-sid": "SELECT sid FROM instances WHERE sid >= ? AND sid < ? ORDER BY sid LIMIT 200",
    "event-sid": "SELECT sid FROM events WHERE sid >= ? AND sid < ? ORDER BY sid LIMIT 200",
    "strategy": "SELECT DISTINCT name FROM strategies WHERE name >= ? AND name < ? ORDER BY name LIMIT 200",
}


def store_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("STRATEGY_DB"):
        return Path(os.environ["STRATEGY_DB"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "strategy" / "store.db"


def stored(kind: str, prefix: str, db: str | None) -> list[str]:
    path = store_path(db)
    if kind not in _QUERIES or not path.is_file():
        return []
    try:
        from .adapters.store import read_only_uri

        conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=0.05)
        try:
            return [r[0] for r in conn.execute(_QUERIES[kind], (prefix, prefix + "\U0010ffff"))]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _walk(spec: dict[str, Any], words: list[str]) -> tuple[dict[str, Any], int, str | None]:
    """The command node the words lead to, how many positionals were given, and --db."""
    node, positionals, db = spec, 0, None
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        option = node["options"].get(word)
        if option is not None:
            skip = option["value"]
            if word == "--db" and i + 1 < len(words):
                db = words[i + 1]
        elif word in node["commands"]:
            node, positionals = node["commands"][word], 0
        elif not word.startswith("-"):
            positionals += 1
    return node, positionals, db


def candidates(words: list[str], index: int) -> list[str]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    current = words[index] if index < len(words) else ""
    node, positionals, db = _walk(spec, words[1:index])
    previous = words[index - 1] if index >= 1 else ""
    option = node["options"].get(previous)
    if option is not None and option["value"]:
        return _values(option["kind"], option.get("choices", []), current, db)
    if current.startswith("-"):
        return sorted(o for o in node["options"] if o.startswith(current))
    if node["commands"]:
        return sorted(c for c in node["commands"] if c.startswith(current))
    args = node["args"]
    if not args:
        return []
    arg = (
        args[min(positionals, len(args) - 1)]
        if args[-1]["many"]
        else (args[positionals] if positionals < len(args) else None)
    )
    return _values(arg["kind"], [], current, db) if arg else []


def _values(kind: str, choices: list[str], current: str, db: str | None) -> list[str]:
    if choices:
        return [c for c in choices if c.startswith(current)]
    if kind in ("file", "strategy-or-file"):
        names = stored("strategy", current, db) if kind == "strategy-or-file" else []
        return [*names, FILES]
    return stored(kind, current, db)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        index = int(args[0])
        found = candidates(args[1:], index)
    except Exception:
        found = []
    sys.stdout.write("".join(c + "\n" for c in found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
