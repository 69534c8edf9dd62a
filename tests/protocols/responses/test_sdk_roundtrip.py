"""The official openai client against our encoders over an in-memory transport (no network).

The client's own request bodies go through decode_response_request; its parsers read what we encode.
"""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response, ResponseFailedEvent

from ollama_gateway.core.events import Event, Finished, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import GatewayError, UpstreamStreamError
from ollama_gateway.protocols.openai.errors import error_body
from ollama_gateway.protocols.responses import decode_response_request
from tests.protocols.openai.sdk import Handler, sdk_client
from tests.protocols.responses.helpers import CREATED, MODEL, RESPONSE_ID, body_for, encoder

USAGE = Usage(prompt_tokens=9, completion_tokens=4)
TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "weather",
        "description": "Weather now",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": False,
    }
]
SCENARIOS: dict[str, list[Event]] = {
    "text": [TextDelta("Hello"), TextDelta(", world"), Finished("stop", USAGE)],
    "reasoning then text": [ThinkingDelta("Think"), ThinkingDelta("ing."), TextDelta("Done."), Finished("stop", USAGE)],
    "two calls": [
        ToolCallEvent(ToolCall(id="call_1", name="weather", arguments={"city": "Oslo"})),
        ToolCallEvent(ToolCall(id="call_2", name="weather", arguments={"city": "Rome"})),
        Finished("tool_calls", USAGE),
    ],
    "length": [TextDelta("Once upon a"), Finished("length", USAGE)],
}


def gateway(events: list[Event], *, error: GatewayError | None = None) -> Handler:
    """Decode the client's body as the route will, then answer with our encoders."""

    def handle(body: dict[str, Any]) -> tuple[int, bytes, str]:
        request, options = decode_response_request(body)
        if not request.stream:
            result = body_for(events, options)
            return 200, orjson.dumps(result), "application/json"
        enc = encoder(options)
        frames = enc.on_start() + b"".join(enc.on_event(e) for e in events)
        frames += enc.on_error(error) if error is not None else enc.on_end()
        return 200, frames, "text/event-stream"

    return handle


def content(response: Response) -> dict[str, Any]:
    """The response as a plain dict, without the SDK helper's parsed additions."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("parsed", "parsed_arguments")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(response.to_dict())  # type: ignore[no-any-return]


def test_create_parses_body_and_output_text() -> None:
    with sdk_client(gateway(SCENARIOS["reasoning then text"])) as client:
        response = client.responses.create(model=MODEL, input="hi", instructions="be brief", temperature=0.5)
    assert isinstance(response, Response)
    assert response.output_text == "Done."
    assert response.id == RESPONSE_ID
    assert response.created_at == CREATED
    assert response.instructions == "be brief"
    assert response.temperature == 0.5
    assert response.usage is not None and response.usage.total_tokens == 13
    assert [item.type for item in response.output] == ["reasoning", "message"]


def test_create_with_tools_and_history() -> None:
    history: Any = [
        {"role": "user", "content": "weather in Oslo?"},
        {"type": "function_call", "call_id": "call_0", "name": "weather", "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_0", "output": "rain"},
    ]
    with sdk_client(gateway(SCENARIOS["text"])) as client:
        response = client.responses.create(model=MODEL, input=history, tools=TOOLS, tool_choice="auto")
    assert response.output_text == "Hello, world"
    assert response.tools[0].type == "function"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_stream_helper_assembles_the_same_response(name: str) -> None:
    events = SCENARIOS[name]
    with sdk_client(gateway(events)) as client:
        with client.responses.stream(model=MODEL, input="hi", tools=TOOLS) as stream:
            seen = [event.type for event in stream]
            final = stream.get_final_response()
        expected = client.responses.create(model=MODEL, input="hi", tools=TOOLS)
    assert seen[0] == "response.created"
    assert seen[-1] == "response.completed"
    assert content(final) == content(expected)
    assert final.output_text == expected.output_text


def test_stream_text_deltas_and_snapshots() -> None:
    with sdk_client(gateway(SCENARIOS["text"])) as client, client.responses.stream(model=MODEL, input="hi") as stream:
        deltas = [(event.delta, event.snapshot) for event in stream if event.type == "response.output_text.delta"]
    assert deltas == [("Hello", "Hello"), (", world", "Hello, world")]


def test_stream_function_arguments_parsed_by_helper() -> None:
    handler = gateway(SCENARIOS["two calls"])
    with sdk_client(handler) as client, client.responses.stream(model=MODEL, input="hi", tools=TOOLS) as stream:
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, c.name, c.arguments) for c in calls] == [
        ("call_1", "weather", '{"city":"Oslo"}'),
        ("call_2", "weather", '{"city":"Rome"}'),
    ]


def test_length_reaches_client_as_incomplete() -> None:
    handler = gateway(SCENARIOS["length"])
    with sdk_client(handler) as client, client.responses.stream(model=MODEL, input="hi", max_output_tokens=3) as stream:
        final = stream.get_final_response()
    assert final.status == "incomplete"
    assert final.incomplete_details is not None and final.incomplete_details.reason == "max_output_tokens"
    assert final.max_output_tokens == 3


def test_error_reaches_raw_stream_as_response_failed() -> None:
    events: list[Event] = [TextDelta("par")]
    with sdk_client(gateway(events, error=UpstreamStreamError("model runner crashed"))) as client:
        seen = list(client.responses.create(model=MODEL, input="hi", stream=True))
    failed = seen[-1]
    assert isinstance(failed, ResponseFailedEvent)
    assert failed.response.status == "failed"
    assert failed.response.error is not None
    assert failed.response.error.message == "model runner crashed"
    assert failed.response.error.code == "server_error"


def test_error_reaches_stream_helper() -> None:
    events: list[Event] = [TextDelta("par")]
    handler = gateway(events, error=UpstreamStreamError("model runner crashed"))
    with sdk_client(handler) as client, client.responses.stream(model=MODEL, input="hi") as stream:
        last = list(stream)[-1]
        # The helper has no final response without response.completed, and says so.
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    assert last.type == "response.failed"
    assert last.response.error is not None and last.response.error.message == "model runner crashed"
    assert last.response.output_text == "par"


def test_refusal_reaches_client_as_bad_request() -> None:
    def handle(body: dict[str, Any]) -> tuple[int, bytes, str]:
        try:
            decode_response_request(body)
        except GatewayError as exc:
            status, err = error_body(exc)
            return status, orjson.dumps(err), "application/json"
        raise AssertionError("expected a refusal")

    with sdk_client(handle) as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="hi", previous_response_id="resp_old")
    assert "previous_response_id" in caught.value.message
    assert caught.value.param == "previous_response_id"


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


@settings(max_examples=40, deadline=None)
@given(
    thinking=st.lists(_TEXT, max_size=4),
    text=st.lists(_TEXT, max_size=4),
    calls=st.lists(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(-(2**53), 2**53)), max_size=2),
    reason=st.sampled_from(["stop", "length", "tool_calls"]),
)
def test_any_stream_assembles_like_the_folded_body(
    thinking: list[str], text: list[str], calls: list[dict[str, int]], reason: Any
) -> None:
    events: list[Event] = [ThinkingDelta(t) for t in thinking] + [TextDelta(t) for t in text]
    events += [ToolCallEvent(ToolCall(id=f"call_{i}", name="weather", arguments=args)) for i, args in enumerate(calls)]
    events.append(Finished(reason, USAGE))
    with sdk_client(gateway(events)) as client:
        with client.responses.stream(model=MODEL, input="hi") as stream:
            final = stream.get_final_response()
        expected = client.responses.create(model=MODEL, input="hi")
    assert content(final) == content(expected)
    assert final.output_text == "".join(text)
