"""What the fleet knows of each Ollama host: its configuration, and a snapshot of its state for routing."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ollama_gateway.settings import Settings

BreakerState = Literal["closed", "open", "half_open"]

DEFAULT_MAX_CONCURRENT = 4


@dataclass(frozen=True, slots=True)
class HostConfig:
    """One Ollama server as configured: from OLLAMA_URL / OLLAMA_URLS, or a row the admin UI or CLI added.

    `priority`: hosts with a higher priority are tried first; `weight` scales a host's share of the load within
    one priority. `max_concurrent` is how many requests the gateway sends it at once (more wait in the queue).
    `auth_header` is the value of an `Authorization` header sent to this host (for an Ollama behind a proxy).
    """

    id: str
    url: str
    name: str | None = None
    weight: int = 1
    priority: int = 0
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    auth_header: str | None = field(default=None, repr=False)
    enabled: bool = True
    draining: bool = False
    source: Literal["settings", "database"] = "settings"

    @property
    def label(self) -> str:
        """The name to show and to label metrics with."""
        return self.name or self.url


@dataclass(frozen=True, slots=True)
class HostState:
    """A snapshot of one host for the router: health from the monitor, load from the fleet."""

    config: HostConfig
    reachable: bool = False
    breaker: BreakerState = "closed"
    models: frozenset[str] = frozenset()
    loaded: frozenset[str] = frozenset()
    in_flight: int = 0
    latency_ms: float | None = None
    version: str | None = None
    error: str | None = None

    @property
    def routable(self) -> bool:
        """May take new requests: enabled, not draining, answered its last probe, breaker not open."""
        cfg = self.config
        return cfg.enabled and not cfg.draining and self.reachable and self.breaker != "open"

    @property
    def free(self) -> int:
        """Request slots left before the host is at capacity."""
        return self.config.max_concurrent - self.in_flight

    def with_load(self, in_flight: int) -> HostState:
        """This state with `in_flight` requests (asked per request and host: built directly, as
        `dataclasses.replace` costs several times as much)."""
        if in_flight == self.in_flight:
            return self
        return HostState(
            self.config,
            self.reachable,
            self.breaker,
            self.models,
            self.loaded,
            in_flight,
            self.latency_ms,
            self.version,
            self.error,
        )


def settings_hosts(settings: Settings) -> list[HostConfig]:
    """The hosts named by OLLAMA_URLS (a comma list), else the one OLLAMA_URL."""
    urls = [u.strip().rstrip("/") for u in (settings.ollama_urls or "").split(",") if u.strip()]
    return [
        HostConfig(id=host_id(url), url=url, max_concurrent=settings.ollama_max_concurrent)
        for url in dict.fromkeys(urls or [settings.ollama_url])
    ]


def host_id(url: str) -> str:
    """A stable id for a host configured by URL."""
    return "h-" + hashlib.blake2b(url.encode(), digest_size=5).hexdigest()


def merge_hosts(configured: Sequence[HostConfig], stored: Sequence[HostConfig]) -> list[HostConfig]:
    """Settings hosts first, then stored ones; a stored row for the same URL wins (it carries the operator's edits)."""
    by_url = {c.url: c for c in configured}
    for config in stored:
        by_url[config.url] = config
    return list(by_url.values())
