"""Turn a Reply (or the default) into a plan of chunks, play it with its timing, and shape chat/generate objects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .replies import (
    Reply,
    default_text,
    default_thinking_text,
    formatted_text,
    logprob_entries,
    split_words,
    tool_call_objects,
)
from .wire import rfc3339_nano

LOAD_DURATION_NS = 1_234_567
PROMPT_EVAL_NS_PER_TOKEN = 1_000_000
EVAL_NS_PER_TOKEN = 2_000_000
METRIC_KEYS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


@dataclass
class Turn:
    """What generation needs to know about one validated /api/chat or /api/generate request."""

    endpoint: Literal["chat", "generate"]
    model: str
    prompt: str
    prompt_words: int
    stream: bool = True
    thinking: bool = False
    had_tools: bool = False
    fmt: Any = None
    logprobs: bool = False
    top_logprobs: int = 0
    raw: bool = False
    num_predict: int | None = None
    started_ns: int = field(default_factory=time.time_ns)


@dataclass
class Piece:
    """One streamed chunk's payload."""

    thinking: str = ""
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None


@dataclass
class Failure:
    """The model run failed; `status` is used only when nothing has been written yet."""

    status: int
    text: str


@dataclass
class Plan:
    """The chunks to send, the timing/error/hold controls, and what the final object carries."""

    reply: Reply
    pieces: list[Piece]
    done_reason: str
    prompt_eval_count: int
    eval_count: int
    final_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    context: list[int] | None = None


def build_plan(reply: Reply | None, turn: Turn, default_tokens: int | None = None, chunk_delay: float = 0.0) -> Plan:
    """Resolve defaults (content derived from the input, thinking, num_predict truncation) into a Plan."""
    reply = reply if reply is not None else Reply(chunk_delay=chunk_delay)
    derive = reply.content is None and not reply.tool_calls
    done_reason = reply.done_reason
    if derive:
        if default_tokens is not None:
            content = [f"token{i} " for i in range(default_tokens)]
        elif turn.fmt not in (None, ""):
            content = split_words(formatted_text(turn.fmt, default_text(turn.prompt)))
        else:
            content = split_words(default_text(turn.prompt))
        if reply.thinking is not None:
            thinking = list(reply.thinking)
        else:
            thinking = split_words(default_thinking_text(turn.prompt)) if turn.thinking else []
        limit = turn.num_predict
        if limit is not None and limit > 0 and len(thinking) + len(content) > limit:
            thinking, content = thinking[:limit], content[: max(0, limit - len(thinking))]
            done_reason = "length"
    else:
        content, thinking = list(reply.content or []), list(reply.thinking or [])
    pieces = [Piece(thinking=text) for text in thinking] + [Piece(content=text) for text in content]
    if turn.logprobs:
        for i, piece in enumerate(pieces):
            given = reply.logprobs[i] if reply.logprobs is not None and i < len(reply.logprobs) else None
            piece.logprobs = (
                given if given is not None else logprob_entries(piece.thinking or piece.content, i, turn.top_logprobs)
            )
    calls = tool_call_objects(reply.tool_calls)
    plan = Plan(
        reply=reply,
        pieces=pieces,
        done_reason=done_reason,
        prompt_eval_count=reply.prompt_eval_count if reply.prompt_eval_count is not None else max(1, turn.prompt_words),
        eval_count=reply.eval_count if reply.eval_count is not None else len(pieces) + len(calls),
    )
    if calls and turn.endpoint == "chat":
        plan.pieces.append(Piece(tool_calls=calls))
    elif calls:
        plan.final_tool_calls = calls
    if turn.endpoint == "generate" and not turn.raw:
        total = plan.prompt_eval_count + plan.eval_count
        plan.context = reply.context if reply.context is not None else list(range(100, 100 + max(1, total)))
    return plan


async def play(plan: Plan, wait_hold: Callable[[Reply], Awaitable[None]]) -> AsyncGenerator[Piece | Failure, None]:
    """Yield the plan's pieces with its delays, hold and error; a Failure ends the run."""
    reply = plan.reply
    if reply.first_chunk_delay > 0:
        await asyncio.sleep(reply.first_chunk_delay)
    count = len(plan.pieces)
    for i in range(count + 1):
        if reply.hold is not None and i == min(reply.hold_after, count):
            await wait_hold(reply)
        if reply.error is not None and i == min(reply.error_after, count):
            yield Failure(reply.error_status, reply.error)
            return
        if i == count:
            return
        if i and reply.chunk_delay > 0:
            await asyncio.sleep(reply.chunk_delay)
        yield plan.pieces[i]


def metrics(plan: Plan, turn: Turn) -> dict[str, int]:
    """Integer-nanosecond metrics for the final object, zero values omitted (omitempty)."""
    prompt_ns = plan.prompt_eval_count * PROMPT_EVAL_NS_PER_TOKEN
    eval_ns = plan.eval_count * EVAL_NS_PER_TOKEN
    elapsed = max(1, time.time_ns() - turn.started_ns)
    values = {
        "total_duration": elapsed + LOAD_DURATION_NS + prompt_ns + eval_ns,
        "load_duration": LOAD_DURATION_NS,
        "prompt_eval_count": plan.prompt_eval_count,
        "prompt_eval_duration": prompt_ns,
        "eval_count": plan.eval_count,
        "eval_duration": eval_ns,
    }
    values.update(plan.reply.metrics)
    return {key: int(values[key]) for key in METRIC_KEYS if values.get(key)}


def _message(content: str, thinking: str, tool_calls: list[dict[str, Any]] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def chunk_object(turn: Turn, piece: Piece) -> dict[str, Any]:
    """A `done:false` chunk of /api/chat or /api/generate."""
    obj: dict[str, Any] = {"model": turn.model, "created_at": rfc3339_nano()}
    if turn.endpoint == "chat":
        obj["message"] = _message(piece.content, piece.thinking, piece.tool_calls)
    else:
        obj["response"] = piece.content
        if piece.thinking:
            obj["thinking"] = piece.thinking
    obj["done"] = False
    if piece.logprobs:
        obj["logprobs"] = piece.logprobs
    return obj


def final_object(turn: Turn, plan: Plan, sent: list[Piece] | None = None) -> dict[str, Any]:
    """The `done:true` object; with `sent` (non-streaming) it also carries the aggregated text and calls."""
    pieces = sent or []
    content = "".join(p.content for p in pieces)
    thinking = "".join(p.thinking for p in pieces)
    obj: dict[str, Any] = {"model": turn.model, "created_at": rfc3339_nano()}
    if turn.endpoint == "chat":
        calls = [call for p in pieces for call in p.tool_calls or []] if turn.had_tools else []
        obj["message"] = _message(content, thinking, calls)
    else:
        obj["response"] = content
        if thinking:
            obj["thinking"] = thinking
    obj["done"] = True
    if plan.done_reason:
        obj["done_reason"] = plan.done_reason
    if plan.context is not None:
        obj["context"] = plan.context
    obj.update(metrics(plan, turn))
    if plan.final_tool_calls:
        obj["tool_calls"] = plan.final_tool_calls
    logprobs = [entry for p in pieces for entry in p.logprobs or []]
    if logprobs:
        obj["logprobs"] = logprobs
    return obj
