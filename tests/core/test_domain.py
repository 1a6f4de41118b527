"""The status vocabulary has one owner, core/domain.py: it matches the platform's reference, the
pydantic Literal mirrors in core/models.py match it, and no other module spells the full list."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import get_args

import pytest
from conftest import ROOT, SHARED

from strategy_cli.core import domain, models

REFERENCE = SHARED / "reference" / "execution-api-get-pending-tasks.txt"
PACKAGE = ROOT / "strategy_cli"


def reference_lists() -> list[set[str]]:
    """Each "Possible values: [...]" list of the reference, as a set of its words."""
    if not REFERENCE.is_file():
        pytest.skip("../shared/reference is absent")
    found = re.findall(r"Possible values: \[([^\]]*)\]", REFERENCE.read_text("utf-8"))
    return [{v.strip() for v in values.split(",")} for values in found]


# The vocabularies the platform's reference lists ("Possible values: [...]").
REFERENCE_VOCABULARIES = [
    domain.EventStatus,
    domain.InstanceStatus,
    domain.EVENT_CANCEL_REASONS,
    domain.INSTANCE_CANCEL_REASONS,
]


def values(enum: type[StrEnum] | tuple[StrEnum, ...]) -> set[str]:
    return {str(member) for member in enum}


@pytest.mark.parametrize("enum", REFERENCE_VOCABULARIES)
def test_enums_are_the_references_lists(enum: type[StrEnum] | tuple[StrEnum, ...]) -> None:
    assert values(enum) in reference_lists()


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (models.EventStatus, domain.EventStatus),
        (models.InstanceStatus, domain.InstanceStatus),
        (models.EventCancelReason, domain.EVENT_CANCEL_REASONS),
        (models.InstanceCancelReason, domain.INSTANCE_CANCEL_REASONS),
    ],
)
def test_models_literals_mirror_the_enums(
    literal: object, enum: type[StrEnum] | tuple[StrEnum, ...]
) -> None:
    assert list(get_args(literal)) == [str(m) for m in enum]


def test_derived_sets_use_the_members() -> None:
    assert {"PROCESSED", "FAILED", "CANCELED"} == domain.TERMINAL_EVENT_STATUSES
    assert set(domain.CancelReason) == {
        *domain.EVENT_CANCEL_REASONS,
        *domain.INSTANCE_CANCEL_REASONS,
    }


def _spelled(path: Path, words: set[str]) -> bool:
    quoted = set(re.findall(r"[\"']([A-Za-z-]+)[\"']", path.read_text("utf-8")))
    return words <= quoted


@pytest.mark.parametrize("enum", [*REFERENCE_VOCABULARIES, domain.NoteKind])
def test_no_other_module_spells_the_status_list(
    enum: type[StrEnum] | tuple[StrEnum, ...],
) -> None:
    allowed = {PACKAGE / "core" / "domain.py", PACKAGE / "core" / "models.py"}
    spelled = [
        str(p.relative_to(ROOT))
        for p in sorted(PACKAGE.rglob("*.py"))
        if p not in allowed and _spelled(p, values(enum))
    ]
    assert spelled == []


def test_the_cli_status_choices_are_the_instance_statuses() -> None:
    from strategy_cli.cli.instance import StatusChoice

    assert set(StatusChoice) == set(domain.InstanceStatus)
