"""Core events → Responses API server-sent events (`event: <type>` + `data: <json>`, numbered in order).

Each run of thinking is a `reasoning` item whose one summary part streams the text; each run of text an
assistant `message` item with one `output_text` part; each tool call a `function_call` item whose
arguments arrive whole in one delta (a `custom_tool_call` item and its input, for a custom tool).
`Finished` closes the open item and sends `response.completed` with the full response (status `incomplete`
when the output was cut at max_output_tokens).
"""

from __future__ import annotations

from typing import Any, Literal

from ollama_gateway.core.events import Event, Finished, LogprobsDelta, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.errors import GatewayError
from ollama_gateway.protocols.framing import SSE_COMMENT_PING, sse_json
from ollama_gateway.protocols.openai.shapes import SSE_MEDIA_TYPE
from ollama_gateway.protocols.responses.decode import ResponsesOptions
from ollama_gateway.protocols.responses.shapes import (
    STATUS_BY_REASON,
    ItemIdFor,
    ItemStatus,
    ResponseStatus,
    call_id_for,
    default_item_ids,
    message_item,
    output_text,
    reasoning_item,
    response_body,
    summary_part,
    tool_call_item,
)

OpenKind = Literal["reasoning", "message"]


class ResponsesStreamEncoder:
    """Streams one response as Responses API events; every event carries the next `sequence_number`."""

    media_type: str = SSE_MEDIA_TYPE

    def __init__(
        self,
        response_id: str,
        created_at: int,
        model: str,
        options: ResponsesOptions,
        item_id_for: ItemIdFor | None = None,
        *,
        exclude_reasoning: bool = False,
    ) -> None:
        self._response_id = response_id
        self._created_at = created_at
        self._model = model
        self._options = options
        self._item_id = item_id_for or default_item_ids(response_id)
        self._exclude_reasoning = exclude_reasoning
        self._sequence = 0
        self._items: list[dict[str, Any]] = []  # finished items, in output order
        self._open: OpenKind | None = None
        self._open_id = ""
        self._open_text: list[str] = []
        self._calls = 0

    def _event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return sse_json(payload, event=kind)

    def _response(self, status: ResponseStatus, **kwargs: Any) -> dict[str, Any]:
        return response_body(
            response_id=self._response_id,
            created_at=self._created_at,
            model=self._model,
            options=self._options,
            status=status,
            **kwargs,
        )

    def on_start(self) -> bytes:
        """`response.created` then `response.in_progress`, both with an empty output."""
        return self._event("response.created", response=self._response("in_progress")) + self._event(
            "response.in_progress", response=self._response("in_progress")
        )

    def on_event(self, event: Event) -> bytes:
        """The item events for one core event; `Finished` closes the open item and completes the response."""
        match event:
            case ThinkingDelta(text=text):
                if not text or self._exclude_reasoning:
                    return b""
                frames = b"" if self._open == "reasoning" else self._close() + self._open_reasoning()
                self._open_text.append(text)
                return frames + self._event(
                    "response.reasoning_summary_text.delta",
                    item_id=self._open_id,
                    output_index=len(self._items),
                    summary_index=0,
                    delta=text,
                )
            case TextDelta(text=text):
                if not text:
                    return b""
                frames = b"" if self._open == "message" else self._close() + self._open_message()
                self._open_text.append(text)
                return frames + self._event(
                    "response.output_text.delta",
                    item_id=self._open_id,
                    output_index=len(self._items),
                    content_index=0,
                    delta=text,
                    logprobs=[],
                )
            case ToolCallEvent(call=call):
                return self._close() + self._tool_call(call)
            case LogprobsDelta():
                # Never requested: `top_logprobs` is refused by the decoder.
                return b""
            case Finished(reason=reason, usage=usage):
                status = STATUS_BY_REASON[reason]
                frames = self._close("incomplete" if status == "incomplete" else "completed")
                response = self._response(status, output=self._items, usage=usage, reason=reason)
                return frames + self._event("response.completed", response=response)

    def on_error(self, error: GatewayError) -> bytes:
        """`response.failed` with the error and the output so far (the open item marked incomplete)."""
        output = list(self._items)
        if self._open is not None:
            output.append(self._open_item("incomplete"))
        return self._event("response.failed", response=self._response("failed", output=output, error=error))

    def on_end(self) -> bytes:
        """Nothing: a Responses stream ends with its terminal event (no `[DONE]`)."""
        return b""

    def on_idle(self) -> bytes:
        """An SSE comment, which every client skips."""
        return SSE_COMMENT_PING

    def _open_reasoning(self) -> bytes:
        index = len(self._items)
        self._open, self._open_id, self._open_text = "reasoning", self._item_id("reasoning", index), []
        return self._event(
            "response.output_item.added", output_index=index, item=reasoning_item(self._open_id, None)
        ) + self._event(
            "response.reasoning_summary_part.added",
            item_id=self._open_id,
            output_index=index,
            summary_index=0,
            part=summary_part(""),
        )

    def _open_message(self) -> bytes:
        index = len(self._items)
        self._open, self._open_id, self._open_text = "message", self._item_id("message", index), []
        return self._event(
            "response.output_item.added", output_index=index, item=message_item(self._open_id, None, "in_progress")
        ) + self._event(
            "response.content_part.added",
            item_id=self._open_id,
            output_index=index,
            content_index=0,
            part=output_text(""),
        )

    def _open_item(self, status: ItemStatus) -> dict[str, Any]:
        text = "".join(self._open_text)
        if self._open == "reasoning":
            return reasoning_item(self._open_id, text)
        return message_item(self._open_id, text, status)

    def _close(self, status: ItemStatus = "completed") -> bytes:
        """The closing events of the open item, if any; `status` applies to a message item."""
        if self._open is None:
            return b""
        index, item_id, text = len(self._items), self._open_id, "".join(self._open_text)
        item = self._open_item(status)
        if self._open == "reasoning":
            frames = self._event(
                "response.reasoning_summary_text.done", item_id=item_id, output_index=index, summary_index=0, text=text
            ) + self._event(
                "response.reasoning_summary_part.done",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                part=summary_part(text),
            )
        else:
            frames = self._event(
                "response.output_text.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            ) + self._event(
                "response.content_part.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                part=output_text(text),
            )
        self._open, self._open_id, self._open_text = None, "", []
        self._items.append(item)
        return frames + self._event("response.output_item.done", output_index=index, item=item)

    def _tool_call(self, call: ToolCall) -> bytes:
        index = len(self._items)
        call_id = call_id_for(call, self._response_id, self._calls)
        self._calls += 1
        added = tool_call_item(self._item_id, index, call_id, call, self._options, empty=True)
        done = tool_call_item(self._item_id, index, call_id, call, self._options)
        self._items.append(done)
        at: dict[str, Any] = {"item_id": done["id"], "output_index": index}
        # Events are numbered as they are made, so they are made in the order they go out.
        frames = self._event("response.output_item.added", output_index=index, item=added)
        if done["type"] == "custom_tool_call":
            frames += self._event("response.custom_tool_call_input.delta", **at, delta=done["input"])
            frames += self._event("response.custom_tool_call_input.done", **at, input=done["input"])
        else:
            frames += self._event("response.function_call_arguments.delta", **at, delta=done["arguments"])
            frames += self._event("response.function_call_arguments.done", **at, arguments=done["arguments"])
        return frames + self._event("response.output_item.done", output_index=index, item=done)
