"""What the fleet knows of each Ollama host: its configuration, and a snapshot of its state for routing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
