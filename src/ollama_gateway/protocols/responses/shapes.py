"""Wire pieces both Responses encoders build: output items, usage, the response object, the error object.

The streaming encoder and `encode_response` share these so a streamed response and a non-streamed one
for the same events carry the same items, ids and fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

import orjson

from ollama_gateway.core.events import StopReason
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import ErrorKind, GatewayError, effective_kind
from ollama_gateway.protocols.openai.errors import error_body
from ollama_gateway.protocols.openai.shapes import tool_call_id
from ollama_gateway.protocols.responses.decode import ResponsesOptions
from ollama_gateway.protocols.responses.decode_input import CUSTOM_INPUT

ResponseStatus = Literal["in_progress", "completed", "incomplete", "failed"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]
ItemKind = Literal["reasoning", "message", "function_call", "custom_tool_call"]
ItemIdFor = Callable[[ItemKind, int], str]
"""Gives the id of the output item of a kind at an output index."""

ITEM_PREFIXES: Final[Mapping[ItemKind, str]] = {
    "reasoning": "rs",
    "message": "msg",
    "function_call": "fc",
    "custom_tool_call": "ctc",
}
"""Output item kind → id prefix, as OpenAI spells them."""

STATUS_BY_REASON: Final[Mapping[StopReason, ResponseStatus]] = {
    "stop": "completed",
    "tool_calls": "completed",
    "length": "incomplete",
}
"""Core stop reason → response `status`."""

INCOMPLETE_REASONS: Final[Mapping[StopReason, str]] = {"length": "max_output_tokens"}
"""Core stop reason → `incomplete_details.reason`, for the reasons that leave a response incomplete."""

ERROR_CODES: Final[Mapping[ErrorKind, str]] = {
    "invalid_request": "invalid_prompt",
    "rate_limit": "rate_limit_exceeded",
}
"""Error kind → `response.error.code` (a closed set in the API); every other kind is `server_error`."""
DEFAULT_ERROR_CODE: Final[str] = "server_error"


def default_item_ids(response_id: str) -> ItemIdFor:
    """Deterministic item ids derived from the response id: `msg_<suffix>_<output index>` and so on."""
    suffix = response_id.removeprefix("resp_")

    def item_id(kind: ItemKind, index: int) -> str:
        return f"{ITEM_PREFIXES[kind]}_{suffix}_{index}"

    return item_id


def reasoning_item(item_id: str, text: str | None) -> dict[str, Any]:
    """A `reasoning` item; the model's thinking is its one summary part (no summary while it streams)."""
    summary = [] if text is None else [summary_part(text)]
    return {"id": item_id, "type": "reasoning", "summary": summary}


def summary_part(text: str) -> dict[str, Any]:
    """A `summary_text` part of a reasoning item."""
    return {"type": "summary_text", "text": text}


def output_text(text: str) -> dict[str, Any]:
    """An `output_text` content part."""
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def message_item(item_id: str, text: str | None, status: ItemStatus) -> dict[str, Any]:
    """An assistant `message` item; no content part yet while `text` is None."""
    content = [] if text is None else [output_text(text)]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def function_call_item(
    item_id: str,
    call_id: str,
    call: ToolCall,
    status: ItemStatus,
    *,
    empty: bool = False,
    namespaced: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A `function_call` item; `arguments` is the JSON text of the object (empty while it streams).

    A call of a flattened namespace function is reported with the function's own name and its `namespace`.
    """
    item: dict[str, Any] = {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "arguments": "" if empty else arguments_text(call),
        "call_id": call_id,
        "name": call.name,
    }
    return _as_declared(item, namespaced)


def custom_tool_call_item(
    item_id: str,
    call_id: str,
    call: ToolCall,
    *,
    empty: bool = False,
    namespaced: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A `custom_tool_call` item (which has no `status` in the API): the free-text `input`, empty while it
    streams, named as the client declared it."""
    item: dict[str, Any] = {
        "id": item_id,
        "type": "custom_tool_call",
        "call_id": call_id,
        "input": "" if empty else custom_input(call),
        "name": call.name,
    }
    return _as_declared(item, namespaced)


def tool_call_item(
    item_id_for: ItemIdFor, index: int, call_id: str, call: ToolCall, options: ResponsesOptions, *, empty: bool = False
) -> dict[str, Any]:
    """The output item of a tool call at `index`: a `custom_tool_call` for a custom tool, else a `function_call`
    (in progress while `empty`, as it streams)."""
    if call.name in options.custom:
        item_id = item_id_for("custom_tool_call", index)
        return custom_tool_call_item(item_id, call_id, call, empty=empty, namespaced=options.namespaced)
    status: ItemStatus = "in_progress" if empty else "completed"
    item_id = item_id_for("function_call", index)
    return function_call_item(item_id, call_id, call, status, empty=empty, namespaced=options.namespaced)


def _as_declared(item: dict[str, Any], namespaced: Mapping[str, tuple[str, str]] | None) -> dict[str, Any]:
    """A call of a flattened namespace tool, named as the client declared it: its own name and `namespace`."""
    if namespaced and item["name"] in namespaced:
        item["namespace"], item["name"] = namespaced[item["name"]]
    return item


def custom_input(call: ToolCall) -> str:
    """A custom tool call's free text: its `input` argument, the one string argument a model put elsewhere, or
    else the arguments as JSON text (a model that ignored the declared shape still reaches the client)."""
    arguments = call.arguments
    value = arguments.get(CUSTOM_INPUT)
    if isinstance(value, str):
        return value
    strings = [v for v in arguments.values() if isinstance(v, str)]
    if len(arguments) == 1 and strings:
        return strings[0]
    return arguments_text(call)


def arguments_text(call: ToolCall) -> str:
    """The call's arguments as compact JSON text."""
    return orjson.dumps(call.arguments).decode()


def call_id_for(call: ToolCall, response_id: str, position: int) -> str:
    """The call's own id, or a deterministic one when Ollama sent none (clients answer by call_id)."""
    return tool_call_id(call, response_id, position)


def usage_body(usage: Usage) -> dict[str, Any]:
    """Responses `usage`; Ollama reports no cached or reasoning token counts, so those are 0."""
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def error_object(error: GatewayError) -> dict[str, Any]:
    """`response.error`: the OpenAI error body's message, type and param, with a code from the API's set."""
    _, body = error_body(error)
    inner = body["error"]
    return {
        "code": ERROR_CODES.get(effective_kind(error), DEFAULT_ERROR_CODE),
        "message": inner["message"],
        "type": inner["type"],
        "param": inner["param"],
    }


def response_body(
    *,
    response_id: str,
    created_at: int,
    model: str,
    options: ResponsesOptions,
    status: ResponseStatus,
    output: Sequence[Mapping[str, Any]] = (),
    usage: Usage | None = None,
    reason: StopReason | None = None,
    error: GatewayError | None = None,
) -> dict[str, Any]:
    """The `response` object, echoing the request's configuration as the API does."""
    incomplete = INCOMPLETE_REASONS.get(reason) if reason is not None and status == "incomplete" else None
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error_object(error) if error is not None else None,
        "incomplete_details": {"reason": incomplete} if incomplete is not None else None,
        "instructions": options.instructions,
        "max_output_tokens": options.max_output_tokens,
        "max_tool_calls": None,
        "model": model,
        "output": [dict(item) for item in output],
        "parallel_tool_calls": options.parallel_tool_calls,
        "previous_response_id": None,
        "reasoning": dict(options.reasoning),
        "store": False,
        "temperature": options.temperature,
        "text": dict(options.text),
        "tool_choice": options.tool_choice,
        "tools": [dict(tool) for tool in options.tools],
        "top_p": options.top_p,
        "truncation": "disabled",
        "usage": usage_body(usage) if usage is not None else None,
        "user": options.user,
        "metadata": dict(options.metadata),
    }
