"""Folding a stream of events into one result: the only way a non-streaming response is built."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field

from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    StopReason,
    TextDelta,
    ThinkingDelta,
    TokenLogprob,
    ToolCallEvent,
)
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage


@dataclass(slots=True)
class ChatResult:
    """Everything a generation produced, accumulated event by event."""

    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)

    def add(self, event: Event) -> None:
        """Fold one event into the result."""
        match event:
            case TextDelta(text=text):
                self.text += text
            case ThinkingDelta(text=text):
                self.thinking += text
            case ToolCallEvent(call=call):
                self.tool_calls.append(call)
            case LogprobsDelta(entries=entries):
                self.logprobs.extend(entries)
            case Finished(reason=reason, usage=usage, stop_sequence=stop_sequence):
                self.reason = reason
                self.usage = usage
                self.stop_sequence = stop_sequence


def fold(events: Iterable[Event]) -> ChatResult:
    """Fold a finished event sequence into a ChatResult."""
    result = ChatResult()
    for event in events:
        result.add(event)
    return result


async def afold(events: AsyncIterable[Event], each: Callable[[Event], None] | None = None) -> ChatResult:
    """Fold an async event stream into a ChatResult, showing each event to `each` first."""
    result = ChatResult()
    async for event in events:
        if each is not None:
            each(event)
        result.add(event)
    return result
