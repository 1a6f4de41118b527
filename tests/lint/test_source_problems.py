"""Problems of the text itself are findings with a position, never exceptions."""

from __future__ import annotations

import pytest
from lintkit import assert_well_formed, lint_bytes

SOURCE_RULES = {
    "yaml-syntax",
    "yaml-tab",
    "yaml-duplicate-key",
    "yaml-recursive-alias",
    "file-encoding",
    "empty-file",
    "top-level-type",
}

# (file name, content, rule, line, column) - the first source finding of the file.
CASES = [
    # empty files
    ("empty.yaml", b"", "empty-file", 1, 1),
    ("blank.yaml", b"  \n\n", "empty-file", 1, 1),
    ("comments.yaml", b"# TODO: write the strategy\n# later\n", "empty-file", 1, 1),
    ("bare-marker.yaml", b"---\n", "empty-file", 1, 1),
    ("empty.json", b"", "empty-file", 1, 1),
    # top level not a mapping
    ("list.yaml", b"- name: a\n- name: b\n", "top-level-type", 1, 1),
    ("scalar.yaml", b"loan-collection\n", "top-level-type", 1, 1),
    ("number.yaml", b"\n42\n", "top-level-type", 2, 1),
    ("null.yaml", b"~\n", "top-level-type", 1, 1),
    ("array.json", b'[{"name": "a"}]', "top-level-type", 1, 1),
    ("string.json", b'"strategy"', "top-level-type", 1, 1),
    # duplicate keys, at the second occurrence
    ("dup.yaml", b"name: a\ndescription: x\nname: b\n", "yaml-duplicate-key", 3, 1),
    ("dup-flow.yaml", b"name: a\nsettings: {tasks: [], tasks: []}\n", "yaml-duplicate-key", 2, 23),
    ("dup.json", b'{\n  "name": "a",\n  "name": "b"\n}\n', "yaml-duplicate-key", 3, 3),
    # tabs
    ("tab-indent.yaml", b"name: a\nsettings:\n\tconfig: {}\n", "yaml-tab", 3, 1),
    ("tab-after-spaces.yaml", b"name: a\nsettings:\n  \tconfig: {}\n", "yaml-tab", 3, 3),
    ("tab-crlf.yaml", b"name: a\r\nsettings:\r\n\tconfig: {}\r\n", "yaml-tab", 3, 1),
    ("tab-list.yaml", b"a:\n\t- 1\n", "yaml-tab", 2, 1),
    # syntax errors
    ("two-colons.yaml", b"name: a\nsettings: config: {}\n", "yaml-syntax", 2, 17),
    ("indent.yaml", b"name: a\n  description: b\n", "yaml-syntax", 2, 14),
    ("unclosed-flow.yaml", b"name: a\nsettings: {config: {}\n", "yaml-syntax", 3, 1),
    ("unclosed-quote.yaml", b'name: "loan\n', "yaml-syntax", 2, 1),
    ("custom-tag.yaml", b"name: a\nsettings: !include settings.yaml\n", "yaml-syntax", 2, 11),
    ("bad-scalar.yaml", b"name: a\nversion: !!int one\n", "yaml-syntax", 2, 10),
    ("empty-tagged-scalar.yaml", b"name: a\nversion: !!int\n", "yaml-syntax", 2, 10),
    ("tagged-mapping.yaml", b"name: a\nsettings: !include {file: s.yaml}\n", "yaml-syntax", 2, 11),
    ("tagged-list.yaml", b"name: a\nsettings:\n  tasks: !Ref [a]\n", "yaml-syntax", 3, 10),
    ("undefined-alias.yaml", b"name: *missing\n", "yaml-syntax", 1, 7),
    ("two-docs.yaml", b"name: a\n---\nname: b\n", "yaml-syntax", 2, 1),
    ("control-char.yaml", b"name: a\ndescription: x\x07y\n", "yaml-syntax", 2, 15),
    ("control-after-utf8.yaml", b"name: \xc3\xa9\xc3\xa9\x01\n", "yaml-syntax", 1, 9),
    ("bad.json", b'{"name": "a"\n "settings": {}}\n', "yaml-syntax", 2, 2),
    # encoding: line and column of the first bad byte
    ("latin1.yaml", b"name: a\ndescription: caf\xe9\n", "file-encoding", 2, 17),
    ("utf16.yaml", b"\xff\xfen\x00a\x00", "file-encoding", 1, 1),
    ("truncated.yaml", b"name: \xe2\x82\n", "file-encoding", 1, 7),
    ("after-utf8.yaml", b"name: \xc3\xa9t\xe9\n", "file-encoding", 1, 9),  # columns count chars
    ("bom-latin1.yaml", b"\xef\xbb\xbfname: caf\xe9\n", "file-encoding", 1, 10),
    # recursive aliases, at the alias
    ("alias-flow.yaml", b"name: a\nsettings: &s {config: *s}\n", "yaml-recursive-alias", 2, 23),
    (
        "alias-block.yaml",
        b"name: a\nsettings: &s\n  config:\n    nested: *s\n",
        "yaml-recursive-alias",
        4,
        13,
    ),
]


@pytest.mark.parametrize(
    ("file", "raw", "rule", "line", "column"), CASES, ids=[c[0] for c in CASES]
)
def test_source_problem_is_a_positioned_finding(
    file: str, raw: bytes, rule: str, line: int, column: int
) -> None:
    findings = lint_bytes(raw, file)
    assert_well_formed(findings, len(raw.splitlines()))
    source = [f for f in findings if f.rule in SOURCE_RULES]
    assert source, [(f.rule, f.line) for f in findings]
    first = source[0]
    assert (first.rule, first.line, first.column) == (rule, line, column), first
    assert first.file == file
    assert first.severity == "error"


@pytest.mark.parametrize(
    ("file", "raw"),
    [
        ("bom.yaml", b"\xef\xbb\xbfname: a\n"),
        ("tabs.json", b'{\n\t"name": "a",\n\t"description": "tab\\tin string"\n}\n'),
        ("crlf.yaml", b"name: a\r\ndescription: b\r\n"),
        ("merge.yaml", b"name: a\n<<: {description: x}\ndescription: override\n"),
        ("anchor-reuse.yaml", b"name: &n a\ndescription: *n\n"),
        ("binary-tag.yaml", b"name: a\ndescription: !!binary aGVsbG8=\n"),
        ("unicode.yaml", "name: zahlung-\u00fc\nDescription: \u65e5\u672c\n".encode()),
    ],
)
def test_valid_source_has_no_source_finding(file: str, raw: bytes) -> None:
    findings = lint_bytes(raw, file)
    assert_well_formed(findings, len(raw.splitlines()))
    assert [f for f in findings if f.rule in SOURCE_RULES] == []
    # the rest of the checks still ran: `settings` is missing in all of these
    assert any(f.rule == "missing-key" for f in findings)


def test_a_merge_key_override_keeps_positions() -> None:
    raw = b"name: a\nsettings:\n  <<: {schedule: {calendars: []}}\n  tasks: 1\n"
    findings = lint_bytes(raw, "merge.yaml")
    by_rule = {(f.rule, f.path): (f.line, f.column) for f in findings}
    assert by_rule[("wrong-type", "settings.tasks")] == (4, 10)
    # the missing keys of `settings` point at `settings`, not at the merged mapping
    assert by_rule[("missing-key", "settings")] == (2, 1)


def test_a_non_string_key_is_a_finding() -> None:
    findings = lint_bytes(b"name: a\n? [x, y]\n: 1\n", "key.yaml")
    assert ("wrong-type", 2, 3) in {(f.rule, f.line, f.column) for f in findings}


def test_several_recursive_aliases_each_get_their_own_position() -> None:
    raw = b"name: a\nsettings: &s\n  config: *s\n  schedule: [*s]\n"
    findings = [f for f in lint_bytes(raw, "a.yaml") if f.rule == "yaml-recursive-alias"]
    assert [(f.line, f.column) for f in findings] == [(3, 11), (4, 14)]
