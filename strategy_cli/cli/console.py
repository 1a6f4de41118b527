"""Rich consoles for human output: colour only on a TTY, NO_COLOR respected.

Text from a file, the store, the environment or the network reaches a console only as `shown()`
or `line()` Text: never read as markup or emoji codes, control characters escaped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING

from ..core.literal import json_escaped, literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


_SIZES = ("COLUMNS", "LINES")


def _make(stream: object) -> Console:
    from rich.console import Console

    # rich reads COLUMNS and LINES with int(): a number longer than Python's str-to-int limit
    # would raise. No terminal is 100,000 cells wide, so a longer number is ignored.
    environ = {k: v for k, v in os.environ.items() if k not in _SIZES or len(v) <= 5}
    columns = environ.get("COLUMNS", "")
    return Console(
        file=stream,  # type: ignore[arg-type]
        highlight=False,
        # ":100:" in "file.yaml:100:7" is an emoji code to rich, even in text printed without markup.
        emoji=False,
        soft_wrap=False,
        width=int(columns) if columns.isdigit() else None,
        _environ=environ,
        # NO_COLOR means no styling at all: rich's no_color alone still emits bold and dim.
        no_color="NO_COLOR" in os.environ or None,
        color_system=None if os.environ.get("NO_COLOR") is not None else "auto",
    )


@lru_cache(maxsize=1)
def _out_for(stream_id: int) -> Console:
    return _make(sys.stdout)


def out() -> Console:
    return _out_for(id(sys.stdout))


def err() -> Console:
    return _make(sys.stderr)


def shown(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """`value` (text from outside: a file, the store, the environment, the network) as rich Text
    to print as it is: no markup, no emoji codes, control characters escaped (core.literal)."""
    from rich.text import Text

    return Text(literal(str(value), multiline=multiline), style=style)


def line(*parts: object) -> Text:
    """One line from pieces, each `value` or `(value, style)`, every one shown literally:
    `line(("error:", "bold red"), " ", message)`."""
    from rich.text import Text

    text = Text()
    for part in parts:
        value, style = part if isinstance(part, tuple) else (part, "")
        text.append_text(shown(value, style))
    return text


def print_error(message: str, hint: str | None = None, details: tuple[str, ...] = ()) -> None:
    """The one-line error on stderr, then its details and hint: all shown literally."""
    console = err()
    console.print(line(("error:", "bold red"), " ", message), soft_wrap=True)
    for detail in details:
        console.print(line("  ", detail), soft_wrap=True)
    if hint:
        console.print(line("  ", ("hint:", "dim"), " ", hint), soft_wrap=True)


def print_yaml(document: object) -> None:
    """A record as YAML for people: YAML escapes most controls itself, not bidi overrides or
    line separators, so the block goes through `shown` too (its newlines kept)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """Safe dumping, plus str subclasses (core/domain's StrEnum members) as their text."""

    Dumper.add_multi_representer(str, yaml.SafeDumper.represent_str)
    text = yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True)
    out().print(shown(text, multiline=True), soft_wrap=True)  # wrapping would change the YAML


def write_json(document: object) -> None:
    """Scripts' output: plain JSON on stdout, never wrapped or styled; the exact values, with the
    characters a terminal could act on as \\u escapes (still the same JSON)."""
    sys.stdout.write(json_escaped(json_text(document)) + "\n")


def json_text(document: object) -> str:
    """`document` as JSON indented by 2, UTF-8 kept. orjson writes it several times faster than
    the standard library (a 1,200-cycle simulation spent half its time here); the standard
    library takes what orjson refuses (an integer beyond 64 bits, a lone surrogate)."""
    import orjson

    try:
        text: str = orjson.dumps(
            document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
        return text
    except (orjson.JSONEncodeError, TypeError):
        import json

        return json.dumps(document, indent=2, ensure_ascii=False, default=str)


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for long work; yields `advance(n)`. Only on a terminal: in a
    log or a pipe it would leave nothing useful (but a stray blank line)."""
    console = err()
    if not console.is_terminal:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
