"""An executor that records the requests a run would send and sends nothing."""

from __future__ import annotations

from typing import Any

from ..core.models import Service, Settings
from ..core.redaction import REDACTED, Redactor
from .http import HttpExecutor, Reply, authorization_for


class DryRunExecutor(HttpExecutor):
    def __init__(self, settings: Settings, env: str | None, redactor: Redactor) -> None:
        super().__init__(settings, env, self._record, redactor)
        self.requests: list[dict[str, Any]] = []
        self.delay_s = 0.0  # nothing is sent, so nothing needs pacing

    def _record(self, method: str, url: str, **kwargs: Any) -> Reply:
        self.requests.append(
            self.redactor.scrub_request(
                {
                    "method": method.upper(),
                    "url": url,
                    "headers": kwargs.get("headers") or {},
                    "params": kwargs.get("params") or {},
                    "body": kwargs.get("json"),
                }
            )
        )
        return Reply(200, {}, "", 0)

    def _auth_header(self, service: Service) -> dict[str, str]:
        return {"Authorization": REDACTED} if authorization_for(service, self.env) else {}
