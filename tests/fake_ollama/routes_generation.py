"""POST /api/chat and POST /api/generate: validation in Ollama's order, load/unload, then the reply."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .catalog import ModelEntry, parse_name
from .decoding import decode_body
from .errors import MODEL_REQUIRED, RAW_MODE, TOP_LOGPROBS_RANGE, OllamaError, model_not_found, no_thinking
from .generation import Plan, Turn, build_plan
from .replies import Reply, word_count
from .requests import CHAT, GENERATE, format_error, keep_alive_seconds, option_int
from .state import FakeState
from .streaming import respond
from .wire import json_response, rfc3339_nano

STATE_KEY = web.AppKey("fake_ollama_state", FakeState)


def _check_top_logprobs(body: dict[str, Any]) -> None:
    top = body.get("top_logprobs") or 0
    if not 0 <= top <= 20:
        raise OllamaError(400, TOP_LOGPROBS_RANGE)


def _thinking_on(body: dict[str, Any], entry: ModelEntry, sent: str) -> bool:
    """Thinking models default `think` to true; others reject a truthy `think` (false is fine)."""
    think = body.get("think")
    if "thinking" in entry.capabilities:
        return think is None or think is True or isinstance(think, str)
    if think is not None and think is not False:
        raise OllamaError(400, no_thinking(sent))
    return False


def _status_reply(endpoint: str, sent: str, reason: str) -> web.Response:
    """The load/unload answer: always one JSON object, even when streaming was asked for."""
    obj: dict[str, Any] = {"model": sent, "created_at": rfc3339_nano()}
    if endpoint == "chat":
        obj["message"] = {"role": "assistant", "content": ""}
    else:
        obj["response"] = ""
    obj.update(done=True, done_reason=reason)
    return json_response(obj)


def _plan(state: FakeState, path: str, entry: ModelEntry, turn: Turn, body: dict[str, Any]) -> Plan:
    error = format_error(turn.fmt)
    if error is not None:  # fails inside the runner, before any output
        return build_plan(Reply(content=[], error=error, error_status=500), turn)
    reply = state.reply_for(path, entry.name.key, body)
    return build_plan(reply, turn, state.default_tokens, state.default_chunk_delay)


async def _run(request: web.Request, state: FakeState, entry: ModelEntry, body: dict[str, Any], turn: Turn) -> Any:
    try:
        return await respond(request, state, turn, _plan(state, request.path, entry, turn, body))
    finally:
        if keep_alive_seconds(body) == 0:
            state.unload(entry)


async def handle_chat(request: web.Request) -> web.StreamResponse:
    """POST /api/chat."""
    state = request.app[STATE_KEY]
    body = decode_body(await request.read(), CHAT)
    _check_top_logprobs(body)
    sent = body.get("model") or ""
    name = parse_name(sent)
    if name is None:
        raise OllamaError(400, MODEL_REQUIRED)
    entry = state.models.get(name)
    if entry is None:
        raise OllamaError(404, model_not_found(sent))
    messages: list[dict[str, Any]] = body.get("messages") or []
    if not messages and keep_alive_seconds(body) == 0:
        state.unload(entry)
        return _status_reply("chat", sent, "unload")
    tools = body.get("tools") or []
    thinking = _thinking_on(body, entry, sent)
    caps = ["completion"] + (["tools"] if tools else []) + (["thinking"] if "thinking" in entry.capabilities else [])
    state.schedule(entry, sent, caps, "chat", body)
    if not messages:
        return _status_reply("chat", sent, "load")
    users = [m for m in messages if isinstance(m, dict) and str(m.get("role") or "").lower() == "user"]
    turn = Turn(
        endpoint="chat",
        model=sent,
        prompt=str(users[-1].get("content") or "") if users else "",
        prompt_words=sum(word_count(str(m.get("content") or "")) for m in messages if isinstance(m, dict)),
        stream=body.get("stream") is not False,
        thinking=thinking,
        had_tools=bool(tools),
        fmt=body.get("format"),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs") or 0,
        num_predict=option_int(body, "num_predict"),
    )
    result: web.StreamResponse = await _run(request, state, entry, body, turn)
    return result


async def handle_generate(request: web.Request) -> web.StreamResponse:
    """POST /api/generate."""
    state = request.app[STATE_KEY]
    body = decode_body(await request.read(), GENERATE)
    _check_top_logprobs(body)
    sent = body.get("model") or ""
    name = parse_name(sent)
    entry = state.models.get(name) if name is not None else None
    if entry is None:  # an invalid name also answers "not found" here (the fallback path)
        raise OllamaError(404, model_not_found(sent))
    raw = bool(body.get("raw"))
    if raw and (body.get("template") or body.get("system") or body.get("context")):
        raise OllamaError(400, RAW_MODE)
    prompt = body.get("prompt") or ""
    if not prompt and keep_alive_seconds(body) == 0:
        state.unload(entry)
        return _status_reply("generate", sent, "unload")
    caps = ["completion"] + (["insert"] if body.get("suffix") else [])
    thinking = _thinking_on(body, entry, sent)
    caps += ["thinking"] if "thinking" in entry.capabilities else []
    state.schedule(entry, sent, caps, "generate", body)
    if not prompt:
        return _status_reply("generate", sent, "load")
    turn = Turn(
        endpoint="generate",
        model=sent,
        prompt=prompt,
        prompt_words=word_count(str(body.get("system") or "")) + word_count(prompt),
        stream=body.get("stream") is not False,
        thinking=thinking,
        fmt=body.get("format"),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs") or 0,
        raw=raw,
        num_predict=option_int(body, "num_predict"),
    )
    result: web.StreamResponse = await _run(request, state, entry, body, turn)
    return result
