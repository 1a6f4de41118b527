"""Strategy files as usable strategies: loaded, linted, and versioned in the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core.document import Document
from ..core.findings import Finding
from ..core.limits import MAX_FILE_BYTES
from ..core.lint import lint_document
from ..core.models import Settings, StrategyFile
from ..core.records import new_sid
from ..core.timecalc import to_rfc3339
from ..errors import StrategyError, UsageError
from .clock import utcnow_seconds
from .config import config_for
from .yamlsource import load_path

if TYPE_CHECKING:
    from .store import Store


class InvalidStrategy(StrategyError):
    """A strategy file with errors; carries the findings so the CLI can show the full report."""

    def __init__(self, file: str, findings: list[Finding]) -> None:
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(
            f"{first.file}:{first.line}:{first.column}: {first.message} [{first.rule}]{more}",
            hint=f"run `strategy validate {file}` for the full report",
        )
        self.findings = findings


@dataclass
class LoadedStrategy:
    record: dict[str, Any]
    settings: Settings
    document: Document | None = None


def load_strategy_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> LoadedStrategy:
    """Read, lint and parse a strategy file; any error stops here with its position.
    A file larger than `max_bytes` is not read (the error is a file-too-large finding)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        doc = load_path(p, str(path), max_bytes)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    findings = lint_document(doc, config_for(p).policy())
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise InvalidStrategy(str(path), errors)
    model = StrategyFile.model_validate(doc.data)
    return LoadedStrategy(_record(doc.data, model), model.settings, doc)


def _record(data: dict[str, Any], model: StrategyFile) -> dict[str, Any]:
    now = to_rfc3339(utcnow_seconds())
    return {
        "sid": new_sid(),
        "name": model.name,
        "description": model.description,
        "secret": model.secret or "",
        "version": 1,
        "settings": data["settings"],
        "createdAt": now,
        "updatedAt": now,
        "digest": digest(data),  # the store keeps it in its own column
    }


def digest(data: dict[str, Any]) -> str:
    """What makes a new version: the settings, the description and the secret."""
    relevant = {k: data.get(k) for k in ("settings", "description", "secret")}
    canonical = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


Applied = Literal["created", "new-version", "unchanged"]


def apply_strategy(store: Store, loaded: LoadedStrategy) -> tuple[dict[str, Any], Applied]:
    """Store a strategy: a new name or changed settings add a version, the same file is a no-op."""
    record = loaded.record
    latest = store.get_strategy(record["name"])
    if latest is not None and store.strategy_digest(record["name"]) == record["digest"]:
        return latest, "unchanged"
    if latest is not None:
        record = {**record, "version": int(latest["version"]) + 1}
    store.put_strategy(record)
    stored = {k: v for k, v in record.items() if k != "digest"}
    return stored, "created" if latest is None else "new-version"


def settings_of(record: dict[str, Any]) -> Settings:
    """A stored strategy's settings as a model (stored records were valid when applied; one
    edited since is an error naming the strategy and the first bad field)."""
    from pydantic import ValidationError

    from .store import DAMAGED_HINT

    try:
        return Settings.model_validate(record["settings"])
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise StrategyError(
            f"stored strategy '{record.get('name')}' ({record.get('sid')}): its settings are "
            f"damaged or hand-edited: settings.{where}: {err['msg']}",
            hint=DAMAGED_HINT,
        ) from None
