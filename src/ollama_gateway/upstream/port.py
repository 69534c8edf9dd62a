"""The upstream port: what the gateway asks of "Ollama", whether one host, a fleet, or a scripted stand-in.

It speaks core types (requests in, events out); the Ollama wire format stays behind it. Every failure comes out
as a `GatewayError`. Implementations: `OllamaHost` (one server), `Fleet` (several, with routing and a queue),
`ScriptedUpstream` (tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event
from ollama_gateway.core.messages import Message
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.upstream.hosts import HostConfig


@dataclass(frozen=True, slots=True)
class Placement:
    """How to place a request: who sent it (the queue is fair across owners), the conversation it continues
    (affinity), and whom to tell while it waits in the queue (`on_queued(ahead)`) and once a host has it."""

    owner: str = ""
    affinity: str | None = None  # a conversation key given outright; else one is made from `conversation`
    conversation: Sequence[Message] = ()  # the messages of a chat, for affinity (read only with several hosts)
    on_queued: Callable[[int], None] | None = None
    on_dispatched: Callable[[], None] | None = None


ANYWHERE = Placement()


@dataclass(slots=True)
class RelayReply:
    """An open native answer: Ollama's status and content type, and its body as it arrives."""

    status: int
    content_type: str | None
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True, slots=True)
class PullProgress:
    """One progress object of a pull (Ollama's own fields), from the host named `host`."""

    host: str
    event: dict[str, Any]


class Upstream(Protocol):
    """The gateway's one way to reach Ollama."""

    def chat(self, request: ChatRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> AsyncIterator[Event]:
        """Run a chat; events as Ollama produces them. Closing the iterator early stops the generation."""
        ...

    def generate(
        self, request: GenerateRequest, *, time_limit: float, placement: Placement = ANYWHERE
    ) -> AsyncIterator[Event]:
        """Run a raw completion."""
        ...

    async def embed(self, request: EmbedRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> EmbedResult:
        """Embed the inputs."""
        ...

    def relay(
        self, path: str, body: bytes, *, model: str, time_limit: float | None, placement: Placement = ANYWHERE
    ) -> AbstractAsyncContextManager[RelayReply]:
        """POST a native body for `model` and hand back the answer unchanged (any status)."""
        ...

    async def models(self) -> list[dict[str, Any]]:
        """`/api/tags` entries: every model once (a fleet lists the union of its hosts')."""
        ...

    async def running(self) -> list[dict[str, Any]]:
        """`/api/ps` entries: the loaded models."""
        ...

    async def show(self, model: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """`/api/show` of a model (on a host that has it)."""
        ...

    async def version(self) -> dict[str, Any]:
        """`/api/version` (of the first healthy host)."""
        ...

    def pull(self, model: str, *, host: str | None = None) -> AsyncIterator[PullProgress]:
        """Pull a model onto one host (by id) or onto every host; progress as it comes."""
        ...

    async def delete(self, model: str, *, host: str | None = None) -> dict[str, str]:
        """Delete a model from one host or from every host that has it: host label → "deleted" or the error."""
        ...


class HostPort(Upstream, Protocol):
    """One host as the fleet drives it: the port, plus its configuration and a pool to open and close."""

    config: HostConfig

    async def start(self) -> None:
        """Open connections."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...


HostFactory = Callable[[HostConfig], HostPort]
