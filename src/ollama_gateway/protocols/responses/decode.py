"""`POST /v1/responses` bodies (already-parsed JSON) → a core ChatRequest plus what shapes the response.

Stateless: anything that needs stored responses, conversations or prompts is a 400. Hosted tools (web
search, ...) are dropped and reported, or refused, per `Leniency.hosted_tools`; unknown and unsupported
top-level fields likewise per `Leniency.unsupported_fields` (stateful ones are always refused: dropping them
would lose the conversation). `namespace` tools are flattened to `namespace__name` functions; a `custom`
tool (free-text input) becomes a function with one string argument, `input`, its grammar shown to the model
in that argument's description (Ollama cannot enforce it). Tools declared by `additional_tools` input items
join `tools`. Precedence for
Ollama options is the chat surface's: `options` < Ollama option names at the top level < the named
fields (`temperature`, `top_p`, `max_output_tokens`). For reasoning: `think` > `reasoning.effort`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ollama_gateway.core.leniency import STRICT, Dropped, Leniency
from ollama_gateway.core.messages import Message, TextPart
from ollama_gateway.core.options import OLLAMA_OPTIONS
from ollama_gateway.core.requests import ChatRequest, Format, GenerationControls, Think
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai.decode_tools import decode_tools
from ollama_gateway.protocols.openai.options import (
    collect_options,
    parse_effort,
    parse_keep_alive,
    parse_think,
    parse_timeout_ms,
)
from ollama_gateway.protocols.openai.schemas import parse_model
from ollama_gateway.protocols.responses import schemas
from ollama_gateway.protocols.responses.decode_input import declared_tools, decode_input
from ollama_gateway.protocols.responses.tools import chat_tool_choice, echo_tool_choice, gather_tools

REASONING_SUMMARIES: Final[frozenset[str]] = frozenset({"auto", "concise", "detailed"})
"""Accepted `reasoning.summary` values; the gateway always sends the model's reasoning as the summary."""

DEFAULT_TEXT: Final[Mapping[str, Any]] = {"format": {"type": "text"}}


@dataclass(frozen=True, slots=True)
class ResponsesOptions:
    """What the response object echoes back that has no place in the core request."""

    instructions: str | None = None
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: Any = "auto"
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    metadata: Mapping[str, Any] = field(default_factory=dict)
    reasoning: Mapping[str, Any] = field(default_factory=lambda: {"effort": None, "summary": None})
    text: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_TEXT))
    user: str | None = None
    # Flat tool name Ollama sees → (namespace, name) as the client declared it.
    namespaced: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Flat names of the `custom` tools: their calls go back as `custom_tool_call` items.
    custom: frozenset[str] = frozenset()
    dropped: Dropped = field(default_factory=Dropped)


def decode_response_request(body: Any, leniency: Leniency = STRICT) -> tuple[ChatRequest, ResponsesOptions]:
    """Translate a /v1/responses body; a field it cannot honour is a 400 naming it (or dropped, per `leniency`)."""
    req = parse_model(schemas.ResponsesRequest, body)
    extra = dict(req.model_extra or {})
    top_options, dropped_fields = _sort_extras(extra, leniency)
    if not req.model.strip():
        raise InvalidRequestError("Missing required parameter: 'model'.", param="model")
    instructions = _instructions(req.instructions)
    messages = decode_input(req.input)
    if instructions:
        messages = (Message(role="system", parts=(TextPart(instructions),)), *messages)
    declared = [(f"tools[{i}]", entry) for i, entry in enumerate(req.tools or ())] + declared_tools(req.input)
    gathered = gather_tools(declared, leniency)
    specs, choice = decode_tools(gathered.chat, chat_tool_choice(req.tool_choice, gathered), None, None)
    request = ChatRequest(
        model=req.model,
        messages=messages,
        stream=bool(req.stream),
        controls=_controls(req, top_options),
        tools=specs,
        tool_choice=choice,
        format=_format(req.text),
    )
    options = ResponsesOptions(
        instructions=instructions,
        tools=tuple(gathered.wire),
        tool_choice=echo_tool_choice(choice, gathered),
        temperature=req.temperature,
        top_p=req.top_p,
        max_output_tokens=req.max_output_tokens,
        parallel_tool_calls=extra.get("parallel_tool_calls") is not False,
        metadata=_metadata(extra.get("metadata")),
        reasoning=_echo_reasoning(req.reasoning),
        text=_echo_text(req.text),
        user=_user(extra.get("user")),
        namespaced=gathered.namespaced,
        custom=frozenset(gathered.custom),
        dropped=Dropped(tools=tuple(gathered.dropped), fields=dropped_fields),
    )
    return request, options


def _sort_extras(extra: Mapping[str, Any], leniency: Leniency) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Unknown top-level keys: Ollama options (returned), ignored fields, refused features, or a 400.

    Under UNSUPPORTED_FIELDS=drop, unsupported and unknown fields are returned as dropped instead.
    """
    options: dict[str, Any] = {}
    dropped: list[str] = []
    lenient = leniency.unsupported_fields == "drop"
    for name, value in extra.items():
        if name in OLLAMA_OPTIONS:
            options[name] = value
        elif name in schemas.STATEFUL_FIELDS:
            if value not in (None, False):
                raise InvalidRequestError(
                    f"'{name}' is not supported: {schemas.STATEFUL_FIELDS[name]}.", param=name, code="unsupported"
                )
        elif name in schemas.UNSUPPORTED_FIELDS:
            if value in (None, 0, [], {}):
                continue
            if lenient:
                dropped.append(name)
                continue
            raise InvalidRequestError(
                f"'{name}' is not supported: {schemas.UNSUPPORTED_FIELDS[name]}.", param=name, code="unsupported"
            )
        elif name in schemas.IGNORED_FIELDS:
            _check_ignored(name, value)
        elif lenient:
            dropped.append(name)
        else:
            raise InvalidRequestError(f"Unrecognized request argument supplied: {name}", param=name)
    return options, tuple(dropped)


def _check_ignored(name: str, value: Any) -> None:
    """Ignored fields still refuse values that would ask for a behaviour the gateway lacks."""
    if name == "truncation" and value not in (None, "disabled"):
        raise InvalidRequestError(
            f"Invalid value for 'truncation': {value!r}; only 'disabled' is supported "
            "(set 'num_ctx' to give the model more context).",
            param="truncation",
        )
    if (
        name == "client_metadata"
        and value is not None
        and (not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()))
    ):
        raise InvalidRequestError(
            "Invalid type for 'client_metadata': expected an object of strings.", param="client_metadata"
        )
    if name == "parallel_tool_calls" and value is not None and not isinstance(value, bool):
        raise InvalidRequestError("Invalid type for 'parallel_tool_calls': expected a boolean.", param=name)
    if name == "include" and value is not None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidRequestError("Invalid type for 'include': expected an array of strings.", param=name)
        for entry in value:
            if entry not in schemas.IGNORED_INCLUDES:
                raise InvalidRequestError(f"'include' value {entry!r} is not supported.", param=name)


def _instructions(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise InvalidRequestError("Invalid type for 'instructions': expected a string.", param="instructions")


def _user(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequestError("Invalid type for 'user': expected a string.", param="user")


def _echo_text(text: schemas.TextConfig | None) -> dict[str, Any]:
    """`text` as the response echoes it; a json_schema format always carries a name there."""
    if text is None:
        return dict(DEFAULT_TEXT)
    echo = text.model_dump(by_alias=True, exclude_none=True)
    fmt = echo.setdefault("format", {"type": "text"})
    if fmt["type"] == "json_schema":
        fmt.setdefault("name", "response")
    return echo


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    raise InvalidRequestError("Invalid type for 'metadata': expected an object.", param="metadata")


def _controls(req: schemas.ResponsesRequest, top_options: Mapping[str, Any]) -> GenerationControls:
    top = dict(top_options)
    named = {"temperature": req.temperature, "top_p": req.top_p}
    top.update({name: value for name, value in named.items() if value is not None})
    options = collect_options(req.options, top)
    if req.max_output_tokens is not None:
        if req.max_output_tokens < 1:
            raise InvalidRequestError("'max_output_tokens' must be at least 1.", param="max_output_tokens")
        options["num_predict"] = req.max_output_tokens
    return GenerationControls(
        options=options,
        think=_think(req),
        keep_alive=parse_keep_alive(req.keep_alive),
        exclude_reasoning=req.exclude_reasoning,
        timeout_ms=parse_timeout_ms(req.request_timeout, req.timeout_ms),
    )


def _think(req: schemas.ResponsesRequest) -> Think | None:
    think = parse_think(req.think)
    effort: Think | None = None
    reasoning = req.reasoning
    if reasoning is not None:
        for name, value in (("summary", reasoning.summary), ("generate_summary", reasoning.generate_summary)):
            if value is not None and value not in REASONING_SUMMARIES:
                raise InvalidRequestError(
                    f"Invalid value for 'reasoning.{name}': {value!r}; expected 'auto', 'concise' or 'detailed'.",
                    param=f"reasoning.{name}",
                )
        if reasoning.context not in (None, "all_turns"):
            raise InvalidRequestError(
                f"Invalid value for 'reasoning.context': {reasoning.context!r}; only 'all_turns' is supported "
                "(the gateway renders every reasoning item sent in 'input').",
                param="reasoning.context",
            )
        effort = parse_effort(reasoning.effort, "reasoning.effort")
    return think if think is not None else effort


def _echo_reasoning(reasoning: schemas.ReasoningConfig | None) -> dict[str, Any]:
    if reasoning is None:
        return {"effort": None, "summary": None}
    summary = reasoning.summary if reasoning.summary is not None else reasoning.generate_summary
    return {"effort": reasoning.effort or None, "summary": summary}


def _format(text: schemas.TextConfig | None) -> Format | None:
    if text is None or text.format is None:
        return None
    fmt = text.format
    match fmt.type:
        case "text":
            return None
        case "json_object":
            return "json"
        case "json_schema":
            if fmt.schema_ is None:
                raise InvalidRequestError(
                    "Missing required parameter: 'text.format.schema'.", param="text.format.schema"
                )
            return fmt.schema_
        case other:
            raise InvalidRequestError(
                f"Invalid value for 'text.format.type': {other!r}; expected 'text', 'json_object' or 'json_schema'.",
                param="text.format.type",
            )
