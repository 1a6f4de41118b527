"""Instance attributes against `config.instanceValidation` (JTD), reported path by path."""

from __future__ import annotations

from typing import Any

from . import jtd
from .models import Settings


def attribute_problems(settings: Settings, attributes: Any) -> list[str]:
    if not isinstance(attributes, dict):
        return ["attributes must be a JSON object"]
    schema = settings.config.instanceValidation if settings.config else None
    if schema is None:
        return []
    return jtd.describe(schema, attributes)
