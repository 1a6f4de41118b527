"""Callbacks for onboarding.yaml: `strategy run --callbacks sample-strategies/onboarding_callbacks.py`.

Each function receives the read-only context (instance, attributes, event, steps, cycle, env,
kind; resumeData for resume callbacks) and returns a value; see docs/callbacks.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def store_kyc_result(ctx: Mapping[str, Any]) -> Any:
    """Keep what the KYB provider sent back when it resumed the check."""
    data = ctx.get("resumeData") or {}
    return {"decision": data.get("decision", "unknown"), "score": data.get("score")}


def kyc_needs_review(ctx: Mapping[str, Any]) -> bool:
    """Send the merchant to manual review on a sanctions hit or a low score."""
    result = (ctx["steps"].get("start-check") or {}).get("data") or {}
    return bool(result.get("sanctionsHit")) or float(result.get("score") or 1.0) < 0.7


def has_first_payment(ctx: Mapping[str, Any]) -> bool:
    """A merchant who has taken a payment gets congratulated instead of nudged."""
    activity = (ctx["steps"].get("fetch-activity") or {}).get("data") or {}
    return int(activity.get("payments") or 0) > 0
