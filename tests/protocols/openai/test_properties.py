"""Property tests: any event sequence survives encode → SSE split anywhere → SDK parse → concatenation."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from openai._streaming import SSEDecoder
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from ollama_gateway.core.events import Event, Finished, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.results import fold
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai.decode import decode_chat
from ollama_gateway.protocols.openai.encode import ChatStreamEncoder, encode_chat_completion

text = st.text(max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
calls = st.builds(
    ToolCall,
    id=st.from_regex(r"call_[a-z0-9]{8}", fullmatch=True),
    name=st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
    arguments=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)
deltas = st.lists(
    st.one_of(st.builds(TextDelta, text), st.builds(ThinkingDelta, text), st.builds(ToolCallEvent, calls)),
    max_size=12,
)
finishes = st.builds(
    Finished,
    st.sampled_from(["stop", "length", "tool_calls"]),
    st.builds(Usage, st.integers(0, 10_000), st.integers(0, 10_000)),
)


def split_anywhere(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(events=deltas, finished=finishes, cuts=st.lists(st.integers(0, 10_000), max_size=8), usage=st.booleans())
def test_stream_round_trips_through_the_sdk_decoder(
    events: list[Event], finished: Finished, cuts: list[int], usage: bool
) -> None:
    encoder = ChatStreamEncoder("chatcmpl-p", 1, "m", include_usage=usage)
    wire = encoder.on_start() + b"".join(encoder.on_event(e) for e in [*events, finished]) + encoder.on_end()
    payloads = [sse.data for sse in SSEDecoder().iter_bytes(iter(split_anywhere(wire, cuts)))]
    assert payloads[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(orjson.loads(p)) for p in payloads[:-1]]

    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    streamed_calls = [
        (tc.index, tc.id, tc.function.name, orjson.loads(tc.function.arguments or ""))
        for c in chunks
        if c.choices
        for tc in c.choices[0].delta.tool_calls or ()
        if tc.function is not None
    ]
    finish_reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]

    result = fold([*events, finished])
    assert content == result.text
    assert reasoning == result.thinking
    assert streamed_calls == [(i, c.id, c.name, c.arguments) for i, c in enumerate(result.tool_calls)]
    assert len(finish_reasons) == 1
    assert (chunks[-1].usage is not None) is usage

    # The non-streaming body, folded from the same events, says the same thing.
    body = ChatCompletion.model_validate(
        encode_chat_completion(result, completion_id="chatcmpl-p", created=1, model="m")
    )
    message = body.choices[0].message
    assert (message.content or "") == content
    assert (getattr(message, "reasoning_content", None) or "") == reasoning
    assert body.choices[0].finish_reason == finish_reasons[0]


@settings(max_examples=100, deadline=None)
@given(content=st.text(), name=st.from_regex(r"[a-z]{1,12}", fullmatch=True), value=json_values)
def test_decoding_keeps_text_and_refuses_unknown_fields(content: str, name: str, value: Any) -> None:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": content}]}
    request, _ = decode_chat(body)
    assert request.messages[0].text == content
    body["zz_" + name] = value
    try:
        decode_chat(body)
    except InvalidRequestError as err:
        assert err.param == "zz_" + name
    else:
        raise AssertionError("an unknown field was accepted")
