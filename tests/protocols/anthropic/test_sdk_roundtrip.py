"""The anthropic SDK's own stream accumulator, fed our SSE bytes over a mock transport (no network)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest

from ollama_gateway.core.events import Event, Finished, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import GatewayError, UpstreamOverloadedError, UpstreamStreamError
from ollama_gateway.protocols.anthropic import MessagesOptions

from .helpers import MODEL, body_for, encoder, stream_bytes

USAGE = Usage(prompt_tokens=31, completion_tokens=9)
CALL = ToolCall(id="call_q1", name="lookup", arguments={"q": "ollama", "n": [1, 2]})


def client_for(payload: bytes, status: int = 200) -> anthropic.Anthropic:
    def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.url.path == "/v1/messages"
        return httpx2.Response(status, content=payload, headers={"content-type": "text/event-stream"})

    return anthropic.Anthropic(
        api_key="test",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


def final_message(payload: bytes) -> anthropic.types.Message:
    with client_for(payload).messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            pass
        return stream.get_final_message()


def plain(message: Any) -> dict[str, Any]:
    """The message as JSON, minus fields the accumulator adds for parsed output."""
    data: dict[str, Any] = message.model_dump(mode="json", exclude_none=True)
    for block in data["content"]:
        block.pop("parsed_output", None)
    return data


@pytest.mark.parametrize(
    ("events", "options"),
    [
        ([TextDelta("Hello"), TextDelta(", world"), Finished("stop", USAGE)], MessagesOptions()),
        (
            [ThinkingDelta("Plan: "), ThinkingDelta("answer."), TextDelta("42"), Finished("length", USAGE)],
            MessagesOptions(),
        ),
        (
            [ThinkingDelta("hidden"), TextDelta("ok"), Finished("stop", USAGE)],
            MessagesOptions(thinking_display="omitted"),
        ),
        (
            [ThinkingDelta("need data"), TextDelta("Looking."), ToolCallEvent(CALL), Finished("stop", USAGE)],
            MessagesOptions(),
        ),
        ([TextDelta("one"), Finished("stop", USAGE, stop_sequence="END")], MessagesOptions(stop_sequences=("END",))),
        ([Finished("stop", USAGE)], MessagesOptions()),
    ],
)
def test_sdk_accumulates_what_encode_message_returns(events: list[Event], options: MessagesOptions) -> None:
    enc = encoder(options)
    payload = enc.on_start() + enc.on_idle() + b"".join(enc.on_event(e) for e in events) + enc.on_end()
    expected = anthropic.types.Message.model_validate(body_for(events, options))
    assert plain(final_message(payload)) == plain(expected)


def test_tool_input_is_parsed_by_the_sdk() -> None:
    message = final_message(stream_bytes([ToolCallEvent(CALL), Finished("tool_calls", USAGE)]))
    block = message.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert block.input == {"q": "ollama", "n": [1, 2]}
    assert message.stop_reason == "tool_use"


@pytest.mark.parametrize("error", [UpstreamStreamError("model runner crashed"), UpstreamOverloadedError("queue full")])
def test_sdk_raises_on_error_event(error: GatewayError) -> None:
    enc = encoder()
    payload = enc.on_start() + enc.on_event(TextDelta("partial")) + enc.on_error(error)
    with pytest.raises(anthropic.APIStatusError) as info:
        final_message(payload)
    assert error.message in str(info.value)
    assert info.value.body == {
        "type": "error",
        "error": {"type": info.value.body["error"]["type"], "message": error.message},
    }


def test_sdk_raises_on_error_event_in_raw_iteration() -> None:
    enc = encoder()
    payload = enc.on_start() + enc.on_error(UpstreamStreamError("boom"))
    raw = client_for(payload).messages.create(
        model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    seen = []
    with pytest.raises(anthropic.APIStatusError, match="boom"):
        for event in raw:
            seen.append(event.type)
    assert seen == ["message_start"]
