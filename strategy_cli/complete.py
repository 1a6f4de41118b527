"""Shell completion, fast: the scripts in completions/ call `strategy-complete`.

The command tree (subcommands, options, enum values, what each argument is) comes from
`completion_spec.json`, generated from the app by `python scripts/gen_completions.py`; dynamic
values (instance sids, event sids, strategy names) are the store's prefix lookups, on a store
opened read-only. No typer or rich import: a TAB answers in tens of ms.
Completion must never fail loudly, so every problem yields no candidates.

    strategy-complete CWORD WORD0 WORD1 ...   # the words of the line, CWORD = index being completed
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapters.store import Store

FILES = "__files__"  # tells the shell script to complete file paths itself
SPEC_PATH = Path(__file__).with_name("completion_spec.json")
CANDIDATES = 200  # most a TAB offers: enough to narrow down, few enough to answer at once
# The store's prefix lookups, by the kind of value the completion spec names.
_LOOKUPS: dict[str, Callable[[Store, str], list[str]]] = {
    "instance-sid": lambda store, prefix: store.match_instance_sids(prefix, CANDIDATES),
    "event-sid": lambda store, prefix: store.match_event_sids(prefix, CANDIDATES),
    "strategy": lambda store, prefix: store.match_strategy_names(prefix, CANDIDATES),
}


def stored(kind: str, prefix: str, db: str | None) -> list[str]:
    from .adapters.store_location import store_location

    path = Path(store_location(db)).expanduser()
    lookup = _LOOKUPS.get(kind)
    if lookup is None or not path.is_file():
        return []
    from .adapters.store import Store
    from .errors import StrategyError

    try:
        # Read-only, and a short busy timeout: a TAB must neither write nor wait on a writer.
        with Store(path, busy_timeout_ms=50, read_only=True) as store:
            return lookup(store, prefix)
    except (StrategyError, sqlite3.Error):
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
    from .core.literal import literal

    # One candidate a line: a stored name with a newline would offer two, one with an escape
    # sequence would act on the terminal. Such names are not offered (they cannot be typed).
    sys.stdout.write("".join(c + "\n" for c in found if literal(c) == c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
