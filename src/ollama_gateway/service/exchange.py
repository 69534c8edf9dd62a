"""One client request from acceptance to its usage record and final task state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ollama_gateway.core.events import Event, Finished, LogprobsDelta
from ollama_gateway.core.usage import NO_USAGE, Usage
from ollama_gateway.errors import GatewayError
from ollama_gateway.storage.keys import KeyRecord
from ollama_gateway.storage.usage import UsageRecord


class TaskObserver(Protocol):
    """The part of a task handle an exchange drives."""

    def queued(self, ahead: int) -> None:
        """The request waits in the gateway's queue with `ahead` requests before it."""

    def forwarding(self) -> None:
        """The request is on its way to Ollama."""

    def finish(self, exc: BaseException | None = None) -> None:
        """The request completed (None) or failed with `exc`."""


@dataclass(slots=True)
class Exchange:
    """Measures a request (latency, time to first token, tokens) and reports how it ended, exactly once."""

    endpoint: str
    task_id: str
    key: KeyRecord | None
    client_ip: str | None
    user_agent: str | None
    record_usage: Callable[[UsageRecord], None]
    task: TaskObserver | None = None
    stream: bool = False
    model_requested: str = ""
    model_upstream: str = ""
    # Told once how the exchange ended, after its usage row and task state (one callable: a list per request
    # cost more than the one listener every exchange has).
    on_finish: Callable[[Exchange, GatewayError | None], None] | None = None
    started: float = field(default_factory=time.perf_counter)
    first_output_at: float | None = None
    usage: Usage = NO_USAGE
    finished: bool = False
    status: int = 0

    def queued(self, ahead: int) -> None:
        """Mark the request as waiting for a free Ollama host."""
        if self.task is not None:
            self.task.queued(ahead)

    def forwarding(self) -> None:
        """Mark the request as sent upstream."""
        if self.task is not None:
            self.task.forwarding()

    def note(self, event: Event) -> None:
        """See one event on its way to the client: the first output's time, and the final usage."""
        if self.first_output_at is None and not isinstance(event, Finished | LogprobsDelta):
            self.first_output_at = time.perf_counter()
        elif isinstance(event, Finished):
            self.usage = event.usage

    def finish(self, error: GatewayError | None, *, status: int | None = None) -> None:
        """Record the outcome: usage row, task state, listeners. Later calls are ignored."""
        if self.finished:
            return
        self.finished = True
        now = time.perf_counter()
        final_status = status if status is not None else (error.http_status if error is not None else 200)
        self.status = final_status
        if self.model_requested or error is None:
            self.record_usage(
                UsageRecord(
                    created_at=datetime.now(UTC),
                    key_id=self.key.id if self.key is not None else None,
                    model_requested=self.model_requested,
                    model_upstream=self.model_upstream,
                    endpoint=self.endpoint,
                    status=final_status,
                    prompt_tokens=self.usage.prompt_tokens,
                    completion_tokens=self.usage.completion_tokens,
                    latency_ms=round((now - self.started) * 1000),
                    ttft_ms=round((self.first_output_at - self.started) * 1000) if self.first_output_at else None,
                    stream=self.stream,
                    task_id=self.task_id,
                    client_ip=self.client_ip,
                    user_agent=self.user_agent,
                    error=error.message[:1000] if error is not None else None,
                )
            )
        if self.task is not None:
            self.task.finish(error)
        if self.on_finish is not None:
            self.on_finish(self, error)
