"""An in-process stand-in for one Ollama host: replays scripted events and errors, records what it was asked.

The fleet runs over it exactly as over `OllamaHost` (pass `host_factory` to the gateway), so route tests exercise
routing, the queue and failover with no sockets at all.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event, Finished, TextDelta
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import GatewayError
from ollama_gateway.upstream.hosts import HostConfig
from ollama_gateway.upstream.port import ANYWHERE, Placement, PullProgress, RelayReply


@dataclass
class Script:
    """What one generation call does: yield `events`, then raise `error` (after `error_after` events) if set.

    `hold`, when given, is awaited after `hold_after` events: a test releases it to let the call go on.
    """

    events: Sequence[Event] = ()
    error: GatewayError | None = None
    error_after: int = 0
    hold: asyncio.Event | None = None
    hold_after: int = 0


def reply(text: str = "ok", prompt_tokens: int = 3, completion_tokens: int = 1) -> Script:
    """A plain answer."""
    return Script(events=(TextDelta(text), Finished("stop", Usage(prompt_tokens, completion_tokens))))


def failing(error: GatewayError, after: int = 0, events: Sequence[Event] = ()) -> Script:
    """A call that fails, before any output (`after=0`) or mid-stream."""
    return Script(events=events, error=error, error_after=after)


@dataclass
class Call:
    """One request the scripted host received."""

    kind: str
    model: str
    request: Any


@dataclass
class ScriptedUpstream:
    """One scripted "host"; scripts are consumed in order, then the default reply is used."""

    config: HostConfig
    models_present: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    loaded: list[str] = field(default_factory=list)
    scripts: deque[Script] = field(default_factory=deque)
    calls: list[Call] = field(default_factory=list)
    down: GatewayError | None = None  # when set, every call (probes too) fails with it
    started: bool = False

    def script(self, *scripts: Script) -> ScriptedUpstream:
        """Queue scripts for the next generation calls."""
        self.scripts.extend(scripts)
        return self

    async def start(self) -> None:
        """Nothing to open."""
        self.started = True

    async def close(self) -> None:
        """Nothing to close."""
        self.started = False

    def chat(self, request: ChatRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> AsyncIterator[Event]:
        """Replay the next script for a chat."""
        return self._run("chat", request.model, request)

    def generate(
        self, request: GenerateRequest, *, time_limit: float, placement: Placement = ANYWHERE
    ) -> AsyncIterator[Event]:
        """Replay the next script for a completion."""
        return self._run("generate", request.model, request)

    async def embed(self, request: EmbedRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> EmbedResult:
        """One vector per input, [len(text), 1.0]."""
        self._check()
        self.calls.append(Call("embed", request.model, request))
        script = self.scripts.popleft() if self.scripts else None
        if script is not None and script.error is not None:
            raise script.error
        vectors = tuple((float(len(text)), 1.0) for text in request.inputs)
        return EmbedResult(vectors=vectors, usage=Usage(sum(len(t.split()) for t in request.inputs), 0))

    @asynccontextmanager
    async def relay(
        self, path: str, body: bytes, *, model: str, time_limit: float | None, placement: Placement = ANYWHERE
    ) -> AsyncIterator[RelayReply]:
        """A native answer: the script's text as one Ollama object (a script failing mid-stream sends its text
        unfinished, then fails)."""
        self._check()
        self.calls.append(Call("relay:" + path, model, orjson.loads(body)))
        script = self.scripts.popleft() if self.scripts else reply()
        if script.error is not None and script.error_after == 0:
            raise script.error
        text = "".join(e.text for e in script.events if isinstance(e, TextDelta))
        answer = {"model": model, "message": {"role": "assistant", "content": text}, "done": script.error is None}

        async def chunks() -> AsyncIterator[bytes]:
            yield orjson.dumps(answer) + b"\n"
            if script.error is not None:
                raise script.error

        yield RelayReply(200, "application/x-ndjson", chunks())

    async def models(self) -> list[dict[str, Any]]:
        """The scripted catalog as /api/tags entries."""
        self._check()
        return [
            {"name": m, "model": m, "size": 1, "details": {}, "capabilities": ["completion"]}
            for m in self.models_present
        ]

    async def running(self) -> list[dict[str, Any]]:
        """The scripted loaded models."""
        self._check()
        return [{"name": m, "model": m} for m in self.loaded]

    async def show(self, model: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Capabilities of any model."""
        self._check()
        return {"capabilities": ["completion", "tools"], "details": {}}

    async def version(self, time_limit: float = 3.0) -> dict[str, Any]:
        """A fixed version."""
        self._check()
        return {"version": "0.0.0-scripted"}

    async def pull(self, model: str, *, host: str | None = None) -> AsyncIterator[PullProgress]:
        """An instant pull."""
        self._check()
        self.models_present.append(model)
        yield PullProgress(self.config.id, {"status": "success"})

    async def delete(self, model: str, *, host: str | None = None) -> dict[str, str]:
        """Forget the model."""
        self._check()
        self.models_present.remove(model)
        return {self.config.label: "deleted"}

    def _check(self) -> None:
        if self.down is not None:
            raise self.down

    async def _run(self, kind: str, model: str, request: Any) -> AsyncIterator[Event]:
        self._check()
        self.calls.append(Call(kind, model, request))
        script = self.scripts.popleft() if self.scripts else reply()
        for index, event in enumerate(script.events):
            if script.error is not None and index == script.error_after:
                raise script.error
            if script.hold is not None and index == script.hold_after:
                await script.hold.wait()
            yield event
        if script.error is not None:
            raise script.error
