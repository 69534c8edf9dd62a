"""OpenAI requests (already-parsed JSON) → core requests, plus the OpenAI-only response options.

Precedence for Ollama options: `options` < Ollama option names at the top level < OpenAI's named
fields (`max_tokens`, `temperature`, ...). For reasoning: `think` > `reasoning_effort` > `reasoning.effort`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ollama_gateway.core.options import OLLAMA_OPTIONS
from ollama_gateway.core.requests import (
    ChatRequest,
    EmbedRequest,
    Format,
    GenerateRequest,
    GenerationControls,
    Think,
)
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai import schemas
from ollama_gateway.protocols.openai.decode_messages import decode_messages, parse_image
from ollama_gateway.protocols.openai.decode_tools import decode_tools
from ollama_gateway.protocols.openai.options import (
    check_stop,
    collect_options,
    parse_effort,
    parse_keep_alive,
    parse_think,
    parse_timeout_ms,
)

EncodingFormat = Literal["float", "base64"]

MAX_TOP_LOGPROBS: Final[int] = 20


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """What shapes an OpenAI chat response but has no place in the core request."""

    include_usage: bool = False


@dataclass(frozen=True, slots=True)
class CompletionOptions:
    """What shapes an OpenAI text completion response but has no place in the core request."""

    include_usage: bool = False
    echo: bool = False


@dataclass(frozen=True, slots=True)
class EmbeddingOptions:
    """What shapes an OpenAI embeddings response."""

    encoding_format: EncodingFormat = "float"


def decode_chat(body: Any) -> tuple[ChatRequest, ChatOptions]:
    """Translate a /v1/chat/completions body; any field it cannot honour is a 400."""
    req = schemas.parse_model(schemas.ChatCompletionRequest, body)
    top_options = _check_extras(req.model_extra, schemas.CHAT_IGNORED_FIELDS)
    _check_common(req)
    messages = decode_messages(req.messages)
    tools, tool_choice = decode_tools(req.tools, req.tool_choice, req.functions, req.function_call)
    max_tokens = req.max_completion_tokens if req.max_completion_tokens is not None else req.max_tokens
    param = "max_completion_tokens" if req.max_completion_tokens is not None else "max_tokens"
    top_logprobs = req.top_logprobs
    if top_logprobs is not None:
        if not 0 <= top_logprobs <= MAX_TOP_LOGPROBS:
            raise InvalidRequestError("top_logprobs must be between 0 and 20", param="top_logprobs")
        if not req.logprobs:
            raise InvalidRequestError("logprobs must be set to true if top_logprobs is used.", param="top_logprobs")
    request = ChatRequest(
        model=_model(req.model),
        messages=messages,
        stream=bool(req.stream),
        controls=_controls(req, top_options, max_tokens, param),
        tools=tools,
        tool_choice=tool_choice,
        format=_format(req.response_format),
        logprobs=req.logprobs,
        top_logprobs=top_logprobs,
    )
    return request, ChatOptions(include_usage=_include_usage(req))


def decode_completion(body: Any) -> tuple[GenerateRequest, CompletionOptions]:
    """Translate a /v1/completions body (one prompt, one choice) to a raw /api/generate request."""
    req = schemas.parse_model(schemas.CompletionRequest, body)
    top_options = _check_extras(req.model_extra, schemas.COMPLETION_IGNORED_FIELDS)
    _check_common(req)
    if req.best_of is not None and req.best_of != 1:
        raise InvalidRequestError("best_of > 1 is not supported; send several requests.", param="best_of")
    logprobs = req.logprobs
    if logprobs is not None and not 0 <= logprobs <= MAX_TOP_LOGPROBS:
        raise InvalidRequestError("logprobs must be between 0 and 20", param="logprobs")
    if req.echo and logprobs is not None:
        raise InvalidRequestError("echo together with logprobs is not supported.", param="echo")
    images = tuple(
        parse_image(image, f"images[{i}]", allow_bare_base64=True) for i, image in enumerate(req.images or ())
    )
    request = GenerateRequest(
        model=_model(req.model),
        prompt=_prompt(req.prompt),
        stream=bool(req.stream),
        controls=_controls(req, top_options, req.max_tokens, "max_tokens"),
        suffix=req.suffix,
        system=req.system,
        images=images,
        raw=req.raw,
        format=_format(req.response_format),
        logprobs=True if logprobs is not None else None,
        top_logprobs=logprobs,
    )
    return request, CompletionOptions(include_usage=_include_usage(req), echo=bool(req.echo))


def decode_embeddings(body: Any) -> tuple[EmbedRequest, EmbeddingOptions]:
    """Translate a /v1/embeddings body."""
    req = schemas.parse_model(schemas.EmbeddingRequest, body)
    top_options = _check_extras(req.model_extra, schemas.EMBEDDING_IGNORED_FIELDS)
    if req.dimensions is not None and req.dimensions <= 0:
        raise InvalidRequestError("'dimensions' must be a positive integer.", param="dimensions")
    encoding: EncodingFormat
    match req.encoding_format:
        case None | "float":
            encoding = "float"
        case "base64":
            encoding = "base64"
        case other:
            raise InvalidRequestError(
                f"Invalid value for 'encoding_format': {other!r}; expected 'float' or 'base64'.",
                param="encoding_format",
            )
    controls = GenerationControls(
        options=collect_options(req.options, top_options), keep_alive=parse_keep_alive(req.keep_alive)
    )
    request = EmbedRequest(
        model=_model(req.model),
        inputs=_inputs(req.input),
        dimensions=req.dimensions,
        truncate=req.truncate,
        controls=controls,
    )
    return request, EmbeddingOptions(encoding_format=encoding)


def _model(name: str) -> str:
    if not name.strip():
        raise InvalidRequestError("Missing required parameter: 'model'.", param="model")
    return name


def _check_extras(extra: Mapping[str, Any] | None, ignored: frozenset[str]) -> dict[str, Any]:
    """Sort unknown top-level keys: Ollama options (returned), ignored fields, or a 400."""
    options: dict[str, Any] = {}
    for name, value in (extra or {}).items():
        if name in OLLAMA_OPTIONS:
            options[name] = value
        elif name == "modalities" and name in ignored:
            if value is not None and value != ["text"]:
                raise InvalidRequestError("Only text output is supported: 'modalities' must be ['text'].", param=name)
        elif name not in ignored:
            raise InvalidRequestError(f"Unrecognized request argument supplied: {name}", param=name)
    return options


def _check_common(req: schemas.ChatCompletionRequest | schemas.CompletionRequest) -> None:
    if req.n is not None and req.n != 1:
        if req.n < 1:
            raise InvalidRequestError("'n' must be at least 1.", param="n")
        raise InvalidRequestError("n > 1 is not supported; send n requests.", param="n")
    if req.logit_bias:
        raise InvalidRequestError("logit_bias is not supported.", param="logit_bias")


def _include_usage(req: schemas.ChatCompletionRequest | schemas.CompletionRequest) -> bool:
    # stream_options without stream is tolerated: it has nothing to change then.
    return bool(req.stream and req.stream_options is not None and req.stream_options.include_usage)


def _controls(
    req: schemas.ChatCompletionRequest | schemas.CompletionRequest,
    top_options: Mapping[str, Any],
    max_tokens: int | None,
    max_param: str,
) -> GenerationControls:
    top = dict(top_options)
    named: dict[str, Any] = {
        "temperature": req.temperature,
        "top_p": req.top_p,
        "seed": req.seed,
        "presence_penalty": req.presence_penalty,
        "frequency_penalty": req.frequency_penalty,
    }
    top.update({name: value for name, value in named.items() if value is not None})
    options = collect_options(req.options, top)
    if max_tokens is not None:
        if max_tokens < 1:
            raise InvalidRequestError(f"'{max_param}' must be at least 1.", param=max_param)
        options["num_predict"] = max_tokens
    if req.stop is not None:
        stop = check_stop(req.stop, "stop")
        if stop:
            options["stop"] = stop
        else:
            options.pop("stop", None)
    exclude = req.exclude_reasoning
    if req.reasoning is not None and req.reasoning.exclude:
        exclude = True
    return GenerationControls(
        options=options,
        think=_think(req),
        keep_alive=parse_keep_alive(req.keep_alive),
        exclude_reasoning=exclude,
        timeout_ms=parse_timeout_ms(req.request_timeout, req.timeout_ms),
    )


def _think(req: schemas.ChatCompletionRequest | schemas.CompletionRequest) -> Think | None:
    think = parse_think(req.think)
    if think is not None:
        return think
    effort = parse_effort(req.reasoning_effort, "reasoning_effort")
    if effort is not None:
        return effort
    reasoning = req.reasoning
    if reasoning is None:
        return None
    if reasoning.max_tokens is not None:
        raise InvalidRequestError(
            "'reasoning.max_tokens' is not supported; use 'reasoning.effort'.", param="reasoning.max_tokens"
        )
    effort = parse_effort(reasoning.effort, "reasoning.effort")
    if effort is not None:
        return effort
    return reasoning.enabled


def _format(response_format: schemas.ResponseFormat | None) -> Format | None:
    if response_format is None:
        return None
    match response_format.type:
        case "text":
            return None
        case "json_object":
            return "json"
        case "json_schema":
            spec = response_format.json_schema
            if spec is None or spec.schema_ is None:
                raise InvalidRequestError(
                    "Missing required parameter: 'response_format.json_schema.schema'.",
                    param="response_format.json_schema.schema",
                )
            return spec.schema_
        case other:
            raise InvalidRequestError(
                f"Invalid value for 'response_format.type': {other!r}; expected 'text', 'json_object' or "
                "'json_schema'.",
                param="response_format.type",
            )


def _prompt(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    if prompt is None:
        raise InvalidRequestError("Missing required parameter: 'prompt'.", param="prompt")
    if isinstance(prompt, list) and len(prompt) > 1:
        raise InvalidRequestError("Only one prompt per request is supported; send one request each.", param="prompt")
    raise InvalidRequestError(
        "Invalid type for 'prompt': expected a string or an array of one string (token ids are not supported).",
        param="prompt",
    )


def _inputs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if value is None or value == []:
        raise InvalidRequestError("invalid input", param="input")
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return tuple(value)
        if all(isinstance(item, int | list) and not isinstance(item, bool) for item in value):
            raise InvalidRequestError("Token id arrays are not supported as 'input'; send text.", param="input")
    raise InvalidRequestError("Invalid type for 'input': expected a string or an array of strings.", param="input")
