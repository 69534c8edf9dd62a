"""Neutral requests: `ChatRequest.bound_for` carries every field it does not replace."""

from __future__ import annotations

import dataclasses

from ollama_gateway.core.messages import Message, TextPart, ToolSpec
from ollama_gateway.core.requests import ChatRequest, GenerationControls


def test_bound_for_equals_replace_on_every_field() -> None:
    # Every field set to something other than its default, so a field the method forgot would show.
    request = ChatRequest(
        model="alias",
        messages=(Message(role="user", parts=(TextPart("hi"),)),),
        stream=True,
        controls=GenerationControls(options={"temperature": 0.5}),
        tools=(ToolSpec(name="lookup", description="d", parameters={"type": "object"}),),
        tool_choice="required",
        format="json",
        logprobs=True,
        top_logprobs=3,
        stop_sequences=("END",),
    )
    defaults = ChatRequest(model="", messages=())
    for f in dataclasses.fields(ChatRequest):
        assert getattr(request, f.name) != getattr(defaults, f.name), f"set {f.name} in this test"
    controls = GenerationControls(options={"num_ctx": 8192}, think=True, timeout_ms=1000)
    messages = (Message(role="user", parts=(TextPart("inlined"),)),)
    bound = request.bound_for("qwen3:8b", controls, messages)
    assert bound == dataclasses.replace(request, model="qwen3:8b", controls=controls, messages=messages)
