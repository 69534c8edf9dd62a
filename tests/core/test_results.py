"""Folding events into one result, the only road to a non-streaming body."""

from __future__ import annotations

from ollama_gateway.core.events import Finished, LogprobsDelta, TextDelta, ThinkingDelta, TokenLogprob, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.results import fold
from ollama_gateway.core.usage import Usage


def test_fold_concatenates_and_collects() -> None:
    call = ToolCall(id="call_1", name="f", arguments={"x": 1})
    lp = TokenLogprob(token="a", logprob=-0.5)
    result = fold(
        [
            ThinkingDelta("th"),
            ThinkingDelta("ink"),
            TextDelta("he"),
            TextDelta("llo"),
            ToolCallEvent(call),
            LogprobsDelta((lp,)),
            Finished("tool_calls", Usage(3, 4), stop_sequence=None),
        ]
    )
    assert (result.thinking, result.text, result.tool_calls, result.logprobs) == ("think", "hello", [call], [lp])
    assert result.reason == "tool_calls"
    assert result.usage.total_tokens == 7
