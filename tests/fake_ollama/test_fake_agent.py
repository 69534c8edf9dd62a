"""The agent behaviour: a tool call while the tool is offered, a text answer after its result."""

from __future__ import annotations

import ollama

from .agent import CallToolThenAnswer
from .server import FakeOllama

TOOL = {"type": "function", "function": {"name": "Read", "parameters": {"type": "object", "properties": {}}}}


def test_call_then_answer(fake_ollama: FakeOllama, sdk: ollama.Client) -> None:
    behaviour = CallToolThenAnswer("Read", {"file_path": "/tmp/x"}, answer="It says {result}")
    fake_ollama.behaviour = behaviour
    user = {"role": "user", "content": "read it"}
    first = sdk.chat(model="qwen3", messages=[user], tools=[TOOL])
    assert first.message.tool_calls is not None
    (call,) = first.message.tool_calls
    assert (call.function.name, call.function.arguments) == ("Read", {"file_path": "/tmp/x"})
    assert first.done_reason == "stop"
    assistant = {"role": "assistant", "content": "", "tool_calls": [call.model_dump()]}
    result = {"role": "tool", "content": "hello", "tool_name": "Read"}
    second = sdk.chat(model="qwen3", messages=[user, assistant, result], tools=[TOOL])
    assert second.message.content == "It says hello"
    assert not second.message.tool_calls
    # Without the tool on offer the default reply answers.
    plain = sdk.chat(model="qwen3", messages=[user])
    assert plain.message.content == "You said: read it"
    assert (behaviour.calls, behaviour.answers) == (1, 1)
