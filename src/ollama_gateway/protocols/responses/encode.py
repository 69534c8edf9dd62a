"""The non-streaming `response` object, built only from the folded event stream."""

from __future__ import annotations

from typing import Any

from ollama_gateway.core.results import ChatResult
from ollama_gateway.protocols.responses.decode import ResponsesOptions
from ollama_gateway.protocols.responses.shapes import (
    STATUS_BY_REASON,
    ItemIdFor,
    call_id_for,
    default_item_ids,
    message_item,
    reasoning_item,
    response_body,
    tool_call_item,
)


def encode_response(
    result: ChatResult,
    *,
    response_id: str,
    created_at: int,
    model: str,
    options: ResponsesOptions,
    item_id_for: ItemIdFor | None = None,
    exclude_reasoning: bool = False,
) -> dict[str, Any]:
    """One `response` object: output items in the order reasoning → message → function and custom tool calls."""
    item_id = item_id_for or default_item_ids(response_id)
    status = STATUS_BY_REASON[result.reason] if result.reason is not None else "completed"
    output: list[dict[str, Any]] = []
    if result.thinking and not exclude_reasoning:
        output.append(reasoning_item(item_id("reasoning", len(output)), result.thinking))
    if result.text:
        # A cut-off answer is an incomplete item, unless tool calls came after it (each call is whole).
        cut = status == "incomplete" and not result.tool_calls
        output.append(message_item(item_id("message", len(output)), result.text, "incomplete" if cut else "completed"))
    for position, call in enumerate(result.tool_calls):
        call_id = call_id_for(call, response_id, position)
        output.append(tool_call_item(item_id, len(output), call_id, call, options))
    return response_body(
        response_id=response_id,
        created_at=created_at,
        model=model,
        options=options,
        status=status,
        output=output,
        usage=result.usage,
        reason=result.reason,
    )
