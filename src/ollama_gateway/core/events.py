"""Stream events: what a generation produces, in order, independent of any wire format.

Every response, streamed or not, is a sequence of these; non-streaming responses fold them (see
`core.results`). Upstream errors are not events: they are raised as `errors.GatewayError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage

StopReason = Literal["stop", "length", "tool_calls"]


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of the model's reasoning."""

    text: str
    kind: Literal["thinking"] = "thinking"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer."""

    text: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """One complete tool call (Ollama never streams partial arguments)."""

    call: ToolCall
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """The log probability of one sampled token, with its alternatives."""

    token: str
    logprob: float
    bytes: tuple[int, ...] | None = None
    top: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True, slots=True)
class LogprobsDelta:
    """Log probabilities of the tokens just produced."""

    entries: tuple[TokenLogprob, ...]
    kind: Literal["logprobs"] = "logprobs"


@dataclass(frozen=True, slots=True)
class Finished:
    """The generation ended; always the last event of a successful stream."""

    reason: StopReason
    usage: Usage
    stop_sequence: str | None = None
    kind: Literal["finished"] = "finished"


Event = ThinkingDelta | TextDelta | ToolCallEvent | LogprobsDelta | Finished


async def close_stream(stream: AsyncIterator[Any]) -> None:
    """Close an async iterator that can be closed; for a generator this unwinds it (and its upstream request)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
