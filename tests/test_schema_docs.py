"""The documentation in the exported schema (`core/schema_docs.py`): what editors show on hover."""

from __future__ import annotations

import itertools
import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from strategy_cli.cli import authoring
from strategy_cli.core import models
from strategy_cli.core.schema_docs import DOCS, MODEL, ROOT

FENCE = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def objects(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object with `properties`, wherever it sits (root, `$defs`, inside `anyOf`,
    `items`, ...), with a JSON pointer-like path for messages."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from objects(value, f"{path}/{index}")


def annotated(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node that carries a description: the root, each model and each property."""
    for path, obj in objects(schema):
        yield path, obj
        for name, prop in obj["properties"].items():
            yield f"{path}/properties/{name}", prop


def field_names(model: type[BaseModel]) -> set[str]:
    """A model's fields as a file spells them (the alias, when there is one)."""
    return {field.alias or name for name, field in model.model_fields.items()}


SCHEMA = authoring.schema_document()


def test_every_model_and_every_property_has_a_description() -> None:
    missing = [path for path, node in annotated(SCHEMA) if not node.get("description")]
    assert not missing, f"no description: {missing}"
    # The walk reaches every model of the file, not just the root.
    assert {path for path, _ in objects(SCHEMA)} >= {f"#/$defs/{name}" for name in SCHEMA["$defs"]}


def test_descriptions_are_one_plain_sentence_or_more() -> None:
    for path, node in annotated(SCHEMA):
        text = node["description"]
        assert text == text.strip() and "\n" not in text, path
        assert text[0].isupper() and text.endswith("."), (path, text)


def test_the_table_names_only_models_and_fields_that_exist() -> None:
    for name, docs in DOCS.items():
        model = getattr(models, name, None)
        assert isinstance(model, type) and issubclass(model, models.FileModel), name
        unknown = set(docs) - {MODEL} - field_names(model)
        assert not unknown, f"DOCS[{name!r}] documents no such field: {sorted(unknown)}"


def test_the_table_covers_every_model_of_the_schema() -> None:
    assert set(DOCS) == {ROOT, *SCHEMA["$defs"]}
    for name, docs in DOCS.items():
        model = getattr(models, name)
        assert MODEL in docs, name
        assert set(docs) - {MODEL} == field_names(model), name


@pytest.mark.parametrize(
    ("path", "node"),
    [(p, n) for p, n in annotated(SCHEMA) if "markdownDescription" in n],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_markdown_description_says_more_than_the_description(
    path: str, node: dict[str, Any]
) -> None:
    markdown, text = node["markdownDescription"], node["description"]
    assert markdown.startswith(text + "\n\n") and len(markdown) > len(text) + 20, path
    assert markdown.count("```") % 2 == 0, f"{path}: an unclosed code fence"
    for example in FENCE.findall(markdown):
        assert isinstance(yaml.safe_load(example), dict), f"{path}: {example}"


def test_the_markdown_of_the_important_fields_shows_an_example() -> None:
    defs = SCHEMA["$defs"]
    wanted = {
        "Calendar": ["scheduleAfter", "leadingUpTasks"],
        "LeadingUpTask": ["scheduleBefore"],
        "RetryConfig": ["retryStrategy", "retryAfter"],
        "Step": ["nextStepRules", "controller"],
        "Delay": ["resetTo", "from", "retryEventCallback"],
        "Config": ["instanceValidation", "redact"],
        "Service": ["credentialPath", "authorization"],
        "Method": ["async", "url"],
        "Action": ["headers", "params", "data"],
    }
    for model, fields in wanted.items():
        for field in fields:
            markdown = defs[model]["properties"][field].get("markdownDescription", "")
            assert "```yaml" in markdown, f"{model}.{field}"


def test_template_fields_explain_templates() -> None:
    defs = SCHEMA["$defs"]
    for model, field in [
        ("Method", "url"),
        *(("Action", f) for f in ("headers", "params", "data")),
    ]:
        markdown = defs[model]["properties"][field]["markdownDescription"]
        assert "{{ path }}" in markdown and "steps.KEY.data" in markdown, (model, field)


def test_the_root_example_is_a_valid_strategy() -> None:
    (example,) = FENCE.findall(SCHEMA["markdownDescription"])
    Draft202012Validator(SCHEMA).validate(yaml.safe_load(example))


GENERATED = models.StrategyFile.model_json_schema(by_alias=True, mode="validation")
PROPERTIES = [
    (model, name)
    for model, definition in [(ROOT, GENERATED), *GENERATED["$defs"].items()]
    for name in definition["properties"]
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 6000) | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
EDGES = st.sampled_from([None, 0, 1, -1, 1.0, 1.5, 24, 5000, 5001, "", "x", True, [], {}, [{}]])


def property_validator(schema: dict[str, Any], model: str, name: str) -> Draft202012Validator:
    definition = schema if model == ROOT else schema["$defs"][model]
    return Draft202012Validator({"$defs": schema["$defs"], **definition["properties"][name]})


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PROPERTIES), EDGES | JSON)
def test_the_exported_schema_accepts_what_pydantics_accepts(
    where: tuple[str, str], value: Any
) -> None:
    """Documenting (and reshaping optional fields for editors) changes no verdict."""
    exported, generated = (property_validator(s, *where) for s in (SCHEMA, GENERATED))
    assert exported.is_valid(value) == generated.is_valid(value), (where, value)


def test_no_optional_field_keeps_an_anyof_that_hides_the_markdown() -> None:
    """yaml-language-server shows a field's markdown only when its `anyOf`, if any, is a model
    or null (see `schema_docs.documented`)."""
    for path, prop in annotated(SCHEMA):
        for option in prop.get("anyOf", []):
            assert "$ref" in option or option == {"type": "null"}, path
            if "$ref" in option:
                assert option["description"] == prop["description"], path


def test_a_field_of_a_documented_model_has_its_own_markdown() -> None:
    """An editor merges a `$ref`'s model into the field and shows the first markdown it finds:
    the model's would hide the field's plain description."""
    defs = SCHEMA["$defs"]
    for path, prop in annotated(SCHEMA):
        refs = [prop, *prop.get("anyOf", [])]
        models_with_markdown = [
            ref["$ref"]
            for ref in refs
            if "markdownDescription" in defs.get(str(ref.get("$ref")).split("/")[-1], {})
        ]
        if models_with_markdown:
            assert "markdownDescription" in prop, (path, models_with_markdown)


# --- what an editor shows ---------------------------------------------------------------------


class LanguageServer:
    """A minimal LSP client of `yaml-language-server --stdio`: enough to open a file and hover."""

    # The answer to every configuration section asked; no schema store, so no network.
    SETTINGS: ClassVar[dict[str, Any]] = {
        "validate": True,
        "hover": True,
        "schemaStore": {"enable": False},
    }

    def __init__(self, exe: str) -> None:
        self.proc = subprocess.Popen(
            [exe, "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ids = itertools.count(1)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while length := self._content_length():
            self.inbox.put(json.loads(self.proc.stdout.read(length)))

    def _content_length(self) -> int:
        assert self.proc.stdout is not None
        length = 0
        while (line := self.proc.stdout.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return length

    def send(self, **message: Any) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> Any:
        ident = next(self.ids)
        self.send(id=ident, method=method, params=params)
        while True:
            message = self.inbox.get(timeout=60)
            if message.get("id") == ident and "method" not in message:
                return message.get("result")
            if "id" in message and "method" in message:  # the server asks us
                items = message.get("params", {}).get("items", [])
                asks_settings = message["method"] == "workspace/configuration"
                self.send(
                    id=message["id"], result=[self.SETTINGS] * len(items) if asks_settings else None
                )

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


EDITED = """\
name: hover
settings:
  schedule:
    calendars:
      - key: monthly
        scheduleAfter: {unit: months, amount: 1, from: dueDate, resetTo: {day: 1}}
        task: charge
  services:
    - key: kyc
      baseUrls: [{environment: sandbox, url: "https://kyc.example.com"}]
      methods: [{key: check, url: /checks, method: post, async: true}]
  actions:
    - {key: check, service: kyc, method: check, headers: {X-Account: "{{ attributes.id }}"}}
  tasks:
    - key: charge
      initialStep: run
      retryConfig: {times: 2, retryStrategy: [{unit: days, amount: 1}]}
      steps: [{key: run, final: true}]
"""
HOVERED = [  # the word hovered in EDITED (its first occurrence as a key), its model and field
    ("scheduleAfter", "Calendar", "scheduleAfter"),  # a model
    ("from", "Delay", "from"),  # an optional string
    ("resetTo", "Delay", "resetTo"),  # an optional model
    ("async", "Method", "async"),  # an optional boolean
    ("headers", "Action", "headers"),  # an optional mapping
    ("retryConfig", "Task", "retryConfig"),  # an optional model, no markdown
    ("retryStrategy", "RetryConfig", "retryStrategy"),  # an optional list
    ("initialStep", "Task", "initialStep"),  # a required string
]


@pytest.mark.skipif(
    shutil.which("yaml-language-server") is None, reason="yaml-language-server missing"
)
def test_yaml_language_server_shows_the_documentation_on_hover(tmp_path: Path) -> None:
    schema = tmp_path / "strategy.schema.json"
    schema.write_text(authoring.schema_text(), encoding="utf-8")
    text = f"# yaml-language-server: $schema={schema.as_uri()}\n{EDITED}"
    rows = text.splitlines()
    uri = (tmp_path / "hover.yaml").as_uri()
    server = LanguageServer(str(shutil.which("yaml-language-server")))
    shown: dict[str, str] = {}
    try:
        server.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        server.send(method="initialized", params={})
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
        server.send(method="textDocument/didOpen", params={"textDocument": document})
        for word, _, _ in HOVERED:
            line = next(n for n, row in enumerate(rows) if re.search(rf"[ {{]{word}:", row))
            at = {"line": line, "character": rows[line].index(f"{word}:") + 1}
            hover = server.request(
                "textDocument/hover", {"textDocument": {"uri": uri}, "position": at}
            )
            shown[word] = hover["contents"]["value"] if hover else ""
    finally:
        server.close()
    for word, model, field in HOVERED:
        prop = SCHEMA["$defs"][model]["properties"][field]
        assert prop.get("markdownDescription", prop["description"]) in shown[word], (
            word,
            shown[word],
        )
