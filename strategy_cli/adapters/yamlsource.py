"""Load YAML or JSON text into a Document that remembers where every key and value stands.

Every problem of the text itself (syntax, tabs, duplicate keys, encoding, an empty file, a top
level that is not a mapping) becomes a finding with a position: this module never raises for
what is in the file.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from ..core.document import Document
from ..core.findings import DocPath
from ..core.limits import MAX_FILE_BYTES, format_size
from ..core.rules_registry import severity_of

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = SafeConstructor()
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_BINARY = "tag:yaml.org,2002:binary"
_NULL = "tag:yaml.org,2002:null"
_COLLECTION_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "omap", "pairs", "set")}
_NO_TAGS = "strategy files use plain YAML without custom tags"


def load_path(path: Path, display: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read and parse a file; an unreadable file is the caller's (OSError propagates).
    A file larger than `max_bytes` is not parsed: its one finding says so."""
    with path.open("rb") as handle:
        return load_stream(handle, display or str(path), path.suffix == ".json", max_bytes)


def load_stream(
    stream: BinaryIO, file: str, is_json: bool, max_bytes: int = MAX_FILE_BYTES
) -> Document:
    """Read at most `max_bytes` + 1 bytes (a pipe or a device has no size to ask first)."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        size = 0
    raw = b"" if size > max_bytes else stream.read(max_bytes + 1)
    if size > max_bytes or len(raw) > max_bytes:
        return too_large(file, max(size, len(raw)), max_bytes)
    return load_bytes(raw, file, is_json=is_json)


def too_large(file: str, size: int, max_bytes: int) -> Document:
    more = "" if size > max_bytes + 1 else "more than "
    return file_problem(
        file,
        "file-too-large",
        f"the file is {more}{format_size(size)}, over the limit of {format_size(max_bytes)};"
        " it was not read",
        "split it, or raise the limit with --max-file-size",
    )


def unreadable(file: str, exc: OSError) -> Document:
    return file_problem(
        file, "file-unreadable", f"cannot read: {exc.strerror or exc}", "check its permissions"
    )


def file_problem(file: str, rule: str, message: str, hint: str) -> Document:
    """A document with no content and one finding about the file itself, at 1:1."""
    doc = Document(file=file, data=None, lines=[])
    _add(doc, rule, 1, 1, message, hint)
    return doc


def load_bytes(raw: bytes, file: str, *, is_json: bool = False) -> Document:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _encoding_failure(raw, file, exc)
    return load_text(text, file, is_json=is_json)


def load_text(text: str, file: str, *, is_json: bool = False) -> Document:
    lines = text.splitlines()
    doc = Document(file=file, data=None, lines=lines)
    if is_json:
        # Tabs are ordinary whitespace in JSON but not in YAML; one char for one keeps columns.
        text = text.replace("\t", " ")
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        _add_syntax_finding(doc, exc)
        return doc
    except ReaderError as exc:  # a character YAML does not allow (e.g. a control character)
        _add_reader_finding(doc, text, exc)
        return doc
    except yaml.YAMLError as exc:  # reader errors without a mark (e.g. control characters)
        _add(doc, "yaml-syntax", 1, 1, f"cannot parse: {exc}")
        return doc
    if root is None or _is_empty_node(root):  # nothing, or a bare `---`
        _add(doc, "empty-file", 1, 1, "the file holds no document", "write a strategy mapping")
        return doc
    doc.data = _Converter(doc, text).convert(root, ())
    if not isinstance(doc.data, dict):
        line, col = _pos(root)
        _add(
            doc,
            "top-level-type",
            line,
            col,
            f"the top level is a {_kind(doc.data)}, not a mapping",
            "a strategy file is a mapping with `name` and `settings`",
        )
    return doc


class _Converter:
    """Turns a node tree into plain data, recording positions and duplicate keys."""

    def __init__(self, doc: Document, text: str) -> None:
        self.doc = doc
        self.text = text
        self.done: dict[int, Any] = {}
        self.open: set[int] = set()
        self.events: list[Any] | None = None  # parsed only to place a recursive alias
        self.aliases_reported: set[int] = set()

    def convert(self, node: Node, path: DocPath) -> Any:
        self.doc.values[path] = _pos(node)
        key = id(node)
        if key in self.open:
            line, col = self._recursive_alias_pos(node)
            _add(
                self.doc,
                "yaml-recursive-alias",
                line,
                col,
                "an alias refers to a node that contains it",
            )
            return None
        if key in self.done:
            return self.done[key]
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if node.tag not in _COLLECTION_TAGS:
            line, col = _pos(node)
            _add(self.doc, "yaml-syntax", line, col, f"unknown tag {node.tag}", _NO_TAGS)
        self.open.add(key)
        try:
            value = (
                self._mapping(node, path)
                if isinstance(node, MappingNode)
                else self._sequence(node, path)
            )
        finally:
            self.open.discard(key)
        self.done[key] = value
        return value

    def _recursive_alias_pos(self, node: Node) -> tuple[int, int]:
        """Where the alias inside `node` that refers back to it stands (else the anchor)."""
        if self.events is None:
            self.events = list(yaml.parse(self.text, Loader=_Loader))
        start, end = node.start_mark.index, node.end_mark.index
        anchor = next(
            (
                e.anchor
                for e in self.events
                if isinstance(e, NodeEvent)
                and not isinstance(e, AliasEvent)
                and e.anchor
                and e.start_mark.index == start
            ),
            None,
        )
        for e in self.events:
            index = e.start_mark.index
            if (
                isinstance(e, AliasEvent)
                and e.anchor == anchor
                and start < index < end
                and index not in self.aliases_reported
            ):
                self.aliases_reported.add(index)
                return e.start_mark.line + 1, e.start_mark.column + 1
        return _pos(node)

    def _sequence(self, node: SequenceNode, path: DocPath) -> list[Any]:
        return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: DocPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        written: set[str] = set()  # keys written here; merged (`<<`) ones may be overridden
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                self._merge(out, vnode, path)
                continue
            key = self._key(knode)
            kpath = (*path, key)
            if key in written:
                line, col = _pos(knode)
                first = self.doc.keys.get(kpath, (line, col))
                _add(
                    self.doc,
                    "yaml-duplicate-key",
                    line,
                    col,
                    f"duplicate key '{key}' (first defined at line {first[0]})",
                    "remove one of them: only the last would count",
                )
            else:
                self.doc.keys[kpath] = _pos(knode)
            written.add(key)
            out[key] = self.convert(vnode, kpath)
        return out

    def _merge(self, out: dict[str, Any], vnode: Node, path: DocPath) -> None:
        sources = vnode.value if isinstance(vnode, SequenceNode) else [vnode]
        own = self.doc.values[path]  # the merged node must not take this mapping's position
        for src in sources:
            merged = self.convert(src, path)
            self.doc.values[path] = own
            if isinstance(merged, dict):
                for k, v in merged.items():
                    out.setdefault(k, v)

    def _key(self, node: Node) -> str:
        # Keys keep their source text: YAML 1.1 would turn `on:` into True.
        if isinstance(node, ScalarNode):
            return str(node.value)
        line, col = _pos(node)
        _add(self.doc, "wrong-type", line, col, "a mapping key must be a plain string")
        return f"<{type(node).__name__} at {line}:{col}>"

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag in (_TIMESTAMP, _BINARY):
            return node.value  # keep dates as text: they travel as RFC 3339 strings
        make = _constructor.yaml_constructors.get(node.tag)
        if make is None:
            line, col = _pos(node)
            _add(
                self.doc,
                "yaml-syntax",
                line,
                col,
                f"unknown tag {node.tag}",
                _NO_TAGS,
            )
            return node.value
        try:
            return make(_constructor, node)
        except Exception:  # a tagged scalar the constructor rejects (`!!int x`, `!!int`)
            line, col = _pos(node)
            kind = node.tag.rsplit(":", 1)[-1]
            _add(self.doc, "yaml-syntax", line, col, f"{node.value!r} is not a valid !!{kind}")
            return node.value


def _is_empty_node(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL and node.value == ""


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _add_reader_finding(doc: Document, text: str, exc: ReaderError) -> None:
    index, char = exc.position, exc.character
    if isinstance(char, int):  # libyaml: a code point, and a byte offset into the UTF-8 text
        index = len(text.encode("utf-8")[:index].decode("utf-8", "ignore"))
    else:
        char = ord(char) if isinstance(char, str) and char else 0
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    _add(doc, "yaml-syntax", line, col, f"character #x{char:04x}: {exc.reason}")


def _kind(value: Any) -> str:
    names = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _add(
    doc: Document, rule: str, line: int, col: int, message: str, hint: str | None = None
) -> None:
    from ..core.findings import Finding

    doc.findings.append(
        Finding(
            doc.file, line, col, severity_of(rule), rule, message, "", hint, doc.line_text(line)
        )
    )


def _add_syntax_finding(doc: Document, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "syntax error"
    # libyaml says "found character that cannot start any token", without the '\t'
    tab_at_mark = (doc.line_text(line) or "")[col - 1 : col] == "\t" and "token" in problem
    if "'\\t'" in problem or "tab" in problem or tab_at_mark:
        _add(
            doc,
            "yaml-tab",
            line,
            col,
            "a tab character cannot indent or start YAML content",
            "indent with spaces",
        )
        return
    if "expected a single document" in f"{problem} {exc.context}":  # libyaml swaps the two
        _add(
            doc,
            "yaml-syntax",
            line,
            col,
            "more than one document in the file",
            "keep one strategy per file",
        )
        return
    context = f" {exc.context}" if exc.context else ""
    _add(doc, "yaml-syntax", line, col, f"{problem}{context}".strip())


def _encoding_failure(raw: bytes, file: str, exc: UnicodeDecodeError) -> Document:
    # utf-8-sig counts from after a byte order mark
    start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    head = raw[:start]
    line = head.count(b"\n") + 1
    # characters, not bytes, before the bad byte (they are valid UTF-8: it is the first error)
    col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8-sig", errors="replace")) + 1
    text = raw.decode("utf-8-sig", errors="replace")
    doc = Document(file=file, data=None, lines=text.splitlines())
    _add(
        doc,
        "file-encoding",
        line,
        col,
        f"byte 0x{raw[start]:02x} is not valid UTF-8",
        "save the file as UTF-8",
    )
    return doc
