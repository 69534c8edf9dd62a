"""Context editing (`context_management.edits`) on /v1/messages: what reaches the model and what is reported."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.messages import Message
from ollama_gateway.core.results import ChatResult
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic import count_tokens, decode_messages, encode_message, estimate_input_tokens
from ollama_gateway.protocols.anthropic.context_edits import CLEARED_TOOL_RESULT
from ollama_gateway.protocols.anthropic.decode import decode_count_tokens

BIG = "x" * 4000  # 1000 estimated tokens


def long(word: str) -> str:
    return word * 40


def think_turn(thinking: str, text: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": long(thinking), "signature": "s"}, {"type": "text", "text": text}],
    }


def tool_round(n: int, name: str = "Read", result: str = BIG) -> list[dict[str, Any]]:
    use = {"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": {"path": f"/f{n}"}}
    return [
        {"role": "assistant", "content": [use]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{n}", "content": result}]},
    ]


def request(messages: list[dict[str, Any]], *edits: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 10, "messages": messages, "context_management": {"edits": list(edits)}}


def thinking_of(messages: tuple[Message, ...]) -> list[str | None]:
    return [m.thinking for m in messages if m.role == "assistant"]


THREE_THINKING = [
    {"role": "user", "content": "q1"},
    think_turn("t1", "a1"),
    {"role": "user", "content": "q2"},
    think_turn("t2", "a2"),
    {"role": "user", "content": "q3"},
    think_turn("t3", "a3"),
    {"role": "user", "content": "q4"},
]


def test_keep_all_changes_nothing_and_reports_no_edit() -> None:
    plain, _ = decode_messages({"model": "m", "max_tokens": 10, "messages": THREE_THINKING})
    chat, options = decode_messages(request(THREE_THINKING, {"type": "clear_thinking_20251015", "keep": "all"}))
    assert chat.messages == plain.messages
    assert options.applied_edits == ()


def test_keep_last_thinking_turns() -> None:
    edit = {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 2}}
    chat, options = decode_messages(request(THREE_THINKING, edit))
    assert thinking_of(chat.messages) == [None, long("t2"), long("t3")]
    assert options.applied_edits is not None
    (applied,) = options.applied_edits
    assert applied["type"] == "clear_thinking_20251015"
    assert applied["cleared_thinking_turns"] == 1
    assert applied["cleared_input_tokens"] > 0


def test_clear_thinking_default_keeps_one_turn() -> None:
    chat, options = decode_messages(request(THREE_THINKING, {"type": "clear_thinking_20251015"}))
    assert thinking_of(chat.messages) == [None, None, long("t3")]
    assert options.applied_edits is not None
    assert options.applied_edits[0]["cleared_thinking_turns"] == 2


def test_clear_tool_uses_keeps_the_last_and_reports_tokens() -> None:
    messages = [{"role": "user", "content": "go"}, *tool_round(1), *tool_round(2), *tool_round(3)]
    edit = {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "input_tokens", "value": 1000},
        "keep": {"type": "tool_uses", "value": 1},
    }
    before, _ = decode_messages(request(messages))
    chat, options = decode_messages(request(messages, edit))
    results = [m.text for m in chat.messages if m.role == "tool"]
    assert results == [CLEARED_TOOL_RESULT, CLEARED_TOOL_RESULT, BIG]
    # Inputs stay unless clear_tool_inputs asks otherwise.
    arguments = [c.arguments for m in chat.messages for c in m.tool_calls]
    assert arguments == [{"path": "/f1"}, {"path": "/f2"}, {"path": "/f3"}]
    assert options.applied_edits is not None
    (applied,) = options.applied_edits
    assert applied["cleared_tool_uses"] == 2
    assert applied["cleared_input_tokens"] == estimate_input_tokens(before) - estimate_input_tokens(chat)


def test_clear_tool_uses_not_triggered_below_threshold() -> None:
    messages = [{"role": "user", "content": "go"}, *tool_round(1), *tool_round(2)]
    chat, options = decode_messages(request(messages, {"type": "clear_tool_uses_20250919"}))  # default: 100k
    assert [m.text for m in chat.messages if m.role == "tool"] == [BIG, BIG]
    assert options.applied_edits == ()


def test_clear_tool_uses_exclude_inputs_and_tool_use_trigger() -> None:
    messages = [{"role": "user", "content": "go"}, *tool_round(1, "Read"), *tool_round(2, "Bash"), *tool_round(3)]
    edit = {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "tool_uses", "value": 2},
        "keep": {"type": "tool_uses", "value": 0},
        "exclude_tools": ["Bash"],
        "clear_tool_inputs": ["Read"],
    }
    chat, options = decode_messages(request(messages, edit))
    assert [m.text for m in chat.messages if m.role == "tool"] == [CLEARED_TOOL_RESULT, BIG, CLEARED_TOOL_RESULT]
    assert [c.arguments for m in chat.messages for c in m.tool_calls] == [{}, {"path": "/f2"}, {}]
    assert options.applied_edits is not None
    assert options.applied_edits[0]["cleared_tool_uses"] == 2


def test_clear_at_least_not_reachable_leaves_the_conversation() -> None:
    messages = [{"role": "user", "content": "go"}, *tool_round(1, result="short"), *tool_round(2)]
    edit = {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "tool_uses", "value": 0},
        "keep": {"type": "tool_uses", "value": 1},
        "clear_at_least": {"type": "input_tokens", "value": 500},
    }
    chat, options = decode_messages(request(messages, edit))
    assert [m.text for m in chat.messages if m.role == "tool"] == ["short", BIG]
    assert options.applied_edits == ()


def test_response_reports_applied_edits_only_when_asked() -> None:
    result = ChatResult(text="hi", usage=Usage(1, 1), reason="stop")
    _, plain = decode_messages({"model": "m", "max_tokens": 10, "messages": THREE_THINKING})
    assert "context_management" not in encode_message(result, message_id="msg_1", model="m", options=plain)
    _, edited = decode_messages(request(THREE_THINKING, {"type": "clear_thinking_20251015"}))
    body = encode_message(result, message_id="msg_1", model="m", options=edited)
    assert body["context_management"]["applied_edits"][0]["cleared_thinking_turns"] == 2


def test_count_tokens_reports_original_tokens() -> None:
    edit = {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 0}}
    payload = request(THREE_THINKING, edit)
    counted = count_tokens(payload)
    original, _ = decode_count_tokens({k: v for k, v in payload.items() if k != "context_management"})
    assert counted["context_management"] == {"original_input_tokens": estimate_input_tokens(original)}
    assert counted["input_tokens"] < counted["context_management"]["original_input_tokens"]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        ({"type": "compact_20260112"}, "unsupported type compact_20260112"),
        ({"type": "clear_tool_uses_20250919", "keep": {"type": "input_tokens", "value": 3}}, "keep.type"),
        ({"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": -1}}, "trigger"),
        ({"type": "clear_tool_uses_20250919", "clear_tool_inputs": "yes"}, "clear_tool_inputs"),
    ],
)
def test_bad_edits_are_400s_naming_them(edit: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_messages(request(THREE_THINKING, edit))
    assert fragment in str(info.value)
    assert (info.value.param or "").startswith("context_management.edits.0")
