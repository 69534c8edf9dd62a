"""The end of every request: one access log line and its metrics (host reachability is the fleet monitor's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from ollama_gateway.errors import (
    AuthenticationError,
    GatewayError,
    RateLimitError,
)
from ollama_gateway.logs import ACCESS_LOGGER
from ollama_gateway.metrics import GatewayMetrics
from ollama_gateway.policy.limits import BUDGET_CODE

access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger(__name__)

_TEXT: Final = "%s %s %s %d %dms ttft=%s model=%s key=%s task=%s tokens=%d/%d%s"


@dataclass(slots=True)  # not frozen: one is built per request, and a frozen init calls object.__setattr__ per field
class Outcome:
    """What is known about a finished request."""

    surface: str
    endpoint: str
    method: str
    status: int
    latency: float
    task_id: str
    key_id: str | None = None
    model: str = ""
    model_upstream: str = ""
    ttft: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stream: bool = False
    error: GatewayError | None = None


class RequestObserver:
    """Counts requests in flight and, when each ends, writes its access line and metrics."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics

    def started(self, surface: str) -> None:
        """A request entered an endpoint."""
        self.metrics.in_flight.inc(surface)

    def stream_opened(self, surface: str) -> None:
        """A streaming exchange began."""
        self.metrics.streams_open.inc(surface)

    def finished(self, outcome: Outcome) -> None:
        """A request ended: metrics and the access line."""
        m = self.metrics
        m.in_flight.dec(outcome.surface)
        if outcome.stream:
            m.streams_open.dec(outcome.surface)
        m.observe(
            outcome.surface,
            outcome.endpoint,
            outcome.model_upstream or None,
            outcome.status,
            outcome.latency,
            outcome.ttft,
            outcome.prompt_tokens,
            outcome.completion_tokens,
        )
        error = outcome.error
        if isinstance(error, RateLimitError):
            m.limit_refusals.labels("budget" if error.code == BUDGET_CODE else _limit_of(error)).inc()
        elif isinstance(error, AuthenticationError):
            m.auth_failures.labels(outcome.surface).inc()
        if access_log.isEnabledFor(logging.INFO):
            self._log(outcome)

    def _log(self, o: Outcome) -> None:
        latency_ms = round(o.latency * 1000)
        ttft_ms = round(o.ttft * 1000) if o.ttft is not None else None
        tail = f' error="{o.error.message[:200]}"' if o.error is not None else ""
        access_log.info(
            _TEXT,
            o.method,
            o.endpoint,
            o.surface,
            o.status,
            latency_ms,
            "-" if ttft_ms is None else f"{ttft_ms}ms",
            o.model or "-",
            o.key_id or "-",
            o.task_id,
            o.prompt_tokens,
            o.completion_tokens,
            tail,
            extra={
                "surface": o.surface,
                "endpoint": o.endpoint,
                "method": o.method,
                "status": o.status,
                "latency_ms": latency_ms,
                "ttft_ms": ttft_ms,
                "model": o.model or None,
                "model_upstream": o.model_upstream or None,
                "key_id": o.key_id,
                "task_id": o.task_id,
                "prompt_tokens": o.prompt_tokens,
                "completion_tokens": o.completion_tokens,
                "stream": o.stream,
                "error": o.error.message if o.error is not None else None,
            },
        )


def _limit_of(error: RateLimitError) -> str:
    return "tpm" if "tokens per minute" in error.message else "rpm"
