"""Stop-sequence detection done by the gateway, so a response can say which sequence ended it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ollama_gateway.core.events import Event, Finished, TextDelta, ThinkingDelta, close_stream
from ollama_gateway.core.usage import Usage


class StopScanner:
    """Streams text through, holding back just enough to catch a stop sequence split across chunks."""

    __slots__ = ("_held", "_keep", "_stops", "matched")

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._keep = max((len(s) for s in self._stops), default=1) - 1
        self._held = ""
        self.matched: str | None = None

    def feed(self, text: str) -> str:
        """Text safe to emit now; after a match, the text before it and nothing more."""
        if self.matched is not None:
            return ""
        buffer = self._held + text
        first: tuple[int, str] | None = None
        for stop in self._stops:
            at = buffer.find(stop)
            if at != -1 and (first is None or at < first[0]):
                first = (at, stop)
        if first is not None:
            self.matched = first[1]
            self._held = ""
            return buffer[: first[0]]
        cut = max(len(buffer) - self._keep, 0)
        self._held = buffer[cut:]
        return buffer[:cut]

    def flush(self) -> str:
        """Whatever was held back, once the stream ended without a match."""
        rest, self._held = self._held, ""
        return "" if self.matched is not None else rest


async def apply_stops(
    events: AsyncIterator[Event], stops: tuple[str, ...], *, prompt_tokens_estimate: int = 0
) -> AsyncIterator[Event]:
    """Cut the text at the first stop sequence and finish there, which ends the upstream request early.

    Ollama reports token counts only on its final chunk, which a cut stream never reads: completion
    tokens are then the chunks seen (Ollama sends about one token per chunk) and prompt tokens the
    caller's estimate.
    """
    scanner = StopScanner(stops)
    chunks = 0
    try:
        async for event in events:
            if isinstance(event, TextDelta | ThinkingDelta):
                chunks += 1
            if isinstance(event, TextDelta):
                text = scanner.feed(event.text)
                if text:
                    yield TextDelta(text)
                if scanner.matched is not None:
                    usage = Usage(prompt_tokens_estimate, chunks)
                    yield Finished("stop", usage, stop_sequence=scanner.matched)
                    return
            elif isinstance(event, Finished):
                rest = scanner.flush()
                if rest:
                    yield TextDelta(rest)
                yield event
            else:
                yield event
    finally:
        await close_stream(events)
