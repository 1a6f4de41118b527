"""The lint rules: every check over one loaded Document, pure and without I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..callbacks import StaticCallbacks
from ..document import Document
from ..findings import Finding
from .callbacks import check_callbacks
from .data import check_data
from .graph import check_graph
from .policy import Policy
from .references import check_references
from .schedule import check_schedule
from .schema import check_schema, check_timezone
from .services import check_services

Check = Callable[[Document], Iterable[Finding]]
CHECKS: tuple[Check, ...] = (
    check_schema,
    check_timezone,
    check_references,
    check_graph,
    check_schedule,
    check_services,
    check_data,
)


def lint_document(
    doc: Document, policy: Policy | None = None, callbacks: StaticCallbacks | None = None
) -> list[Finding]:
    """All findings of one document: source problems first, then every rule that can run.
    `callbacks` is what the configured callback modules define (None: not checked)."""
    findings = list(doc.findings)
    if isinstance(doc.data, dict):
        findings += _run_checks(doc)
        findings += check_callbacks(doc, callbacks)
    findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return (policy or Policy()).apply(findings, doc.lines)


def _run_checks(doc: Document) -> Iterator[Finding]:
    # Schema errors do not hide the others: each check reads the raw data defensively.
    for check in CHECKS:
        yield from check(doc)
