"""The documentation in the exported schema (`core/schema_docs.py`): what editors show on hover."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from strategy_cli.cli import authoring
from strategy_cli.core import models
from strategy_cli.core.schema_docs import DOCS, MODEL, ROOT

ANNOTATIONS = ("description", "markdownDescription")
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


def without_annotations(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: without_annotations(value)
            for key, value in node.items()
            if key not in (*ANNOTATIONS, "title")
        }
    if isinstance(node, list):
        return [without_annotations(value) for value in node]
    return node


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


def test_the_documentation_only_annotates() -> None:
    """Descriptions change no rule: without annotations, the exported schema is pydantic's."""
    generated = models.StrategyFile.model_json_schema(by_alias=True, mode="validation")
    exported = {key: SCHEMA[key] for key in generated}
    assert without_annotations(exported) == without_annotations(generated)
