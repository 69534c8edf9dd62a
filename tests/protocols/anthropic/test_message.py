"""encode_message: the non-streaming body, built from the folded result only."""

from __future__ import annotations

import base64

import pytest

from ollama_gateway.core.events import Event, Finished, StopReason, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.protocols.anthropic import MessagesOptions, thinking_signature, tool_ids_for
from ollama_gateway.protocols.anthropic.encode import STOP_REASONS, stop_reason

from .helpers import MESSAGE_ID, MODEL, body_for

USAGE = Usage(prompt_tokens=12, completion_tokens=5)


def test_full_body() -> None:
    call = ToolCall(id="call_x1", name="f", arguments={"b": 1, "a": [2]})
    events: list[Event] = [
        ThinkingDelta("why"),
        TextDelta("Sure"),
        TextDelta("."),
        ToolCallEvent(call),
        Finished("stop", USAGE),
    ]
    assert body_for(events) == {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "thinking", "thinking": "why", "signature": thinking_signature("why")},
            {"type": "text", "text": "Sure."},
            {"type": "tool_use", "id": "toolu_x1", "name": "f", "input": {"b": 1, "a": [2]}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 5},
    }


def test_empty_text_is_omitted_and_omitted_thinking_keeps_signature() -> None:
    events: list[Event] = [ThinkingDelta("hidden"), TextDelta(""), Finished("stop", USAGE)]
    body = body_for(events, MessagesOptions(thinking_display="omitted"))
    assert body["content"] == [{"type": "thinking", "thinking": "", "signature": thinking_signature("hidden")}]


@pytest.mark.parametrize(
    ("reason", "sequence", "tools", "expected"),
    [
        ("stop", None, False, "end_turn"),
        ("length", None, False, "max_tokens"),
        ("tool_calls", None, True, "tool_use"),
        ("stop", None, True, "tool_use"),
        ("stop", "END", False, "stop_sequence"),
        ("length", "END", True, "stop_sequence"),
        (None, None, False, "end_turn"),
    ],
)
def test_stop_reason(reason: StopReason | None, sequence: str | None, tools: bool, expected: str) -> None:
    assert stop_reason(reason, stop_sequence=sequence, called_tools=tools) == expected


def test_stop_reason_table_covers_every_core_reason() -> None:
    assert set(STOP_REASONS) == {"stop", "length", "tool_calls"}


def test_signature_is_deterministic_base64_sha256() -> None:
    sig = thinking_signature("abc")
    assert sig == thinking_signature("abc") != thinking_signature("abd")
    assert len(base64.b64decode(sig)) == 32


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (ToolCall(id="call_ab12", name="f", arguments={}), "toolu_ab12"),
        (ToolCall(id="toolu_keep", name="f", arguments={}), "toolu_keep"),
        (ToolCall(id="xyz", name="f", arguments={}), "toolu_xyz"),
        (ToolCall(id="", name="f", arguments={}, index=3), "toolu_01TEST_3"),
    ],
)
def test_tool_ids(call: ToolCall, expected: str) -> None:
    assert tool_ids_for(MESSAGE_ID)(call) == expected
