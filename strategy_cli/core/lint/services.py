"""Service rules: URLs are absolute, environments line up."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from ..document import Document
from ..findings import DocPath, Finding
from .walk import items, text

SERVICES: DocPath = ("settings", "services")


def check_services(doc: Document) -> Iterator[Finding]:
    envs_of: dict[str, tuple[DocPath, set[str]]] = {}
    for spath, service in items(doc.data, SERVICES):
        base_envs = set()
        for bpath, base in items(doc.data, (*spath, "baseUrls")):
            yield from _url(doc, (*bpath, "url"), base.get("url"))
            if text(base.get("environment")):
                base_envs.add(base["environment"])
        for apath, auth in items(doc.data, (*spath, "authorization")):
            yield from _url(doc, (*apath, "url"), auth.get("url"))
            env = text(auth.get("environment"))
            if env is not None and env not in base_envs:
                yield doc.finding(
                    "authorization-without-base-url",
                    (*apath, "environment"),
                    f"service '{service.get('key')}' has authorization for environment '{env}' "
                    "but no base URL for it",
                    hint=f"add a baseUrls entry with `environment: {env}`",
                )
        envs_of[str(service.get("key"))] = ((*spath, "baseUrls"), base_envs)
    yield from _missing_envs(doc, envs_of)


def _url(doc: Document, path: DocPath, url: object) -> Iterator[Finding]:
    if not isinstance(url, str) or "${env:" in url or "{{" in url:
        return
    if not _absolute_http(url):
        yield doc.finding(
            "invalid-base-url",
            path,
            f"'{url}' is not an absolute http(s) URL",
            hint="write it as https://host[:port][/path]",
        )


def _absolute_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in 0-65535
    except ValueError:  # e.g. an unclosed IPv6 bracket: http://[::1
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _missing_envs(doc: Document, envs_of: dict[str, tuple[DocPath, set[str]]]) -> Iterator[Finding]:
    every = set().union(*(envs for _, envs in envs_of.values())) if envs_of else set()
    for key, (path, envs) in envs_of.items():
        missing = sorted(every - envs)
        if missing:
            yield doc.finding(
                "missing-environment",
                path,
                f"service '{key}' has no base URL for environment(s) {', '.join(missing)}",
                hint="a run with --env for those environments cannot call this service",
                at="key",
            )
