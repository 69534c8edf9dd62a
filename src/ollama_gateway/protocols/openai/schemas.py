"""Pydantic models of OpenAI wire requests; they check shapes and types, `decode` checks meaning.

Fields that take several shapes (message `content`, `stop`, `tool_choice`, `prompt`, `input`, `think`)
are typed `Any` here and checked by hand in `decode`, so every error names the field precisely.
Top-level models allow extra keys: `decode` sorts them into Ollama options, ignored fields and 400s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ollama_gateway.errors import InvalidRequestError

CHAT_IGNORED_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "user",
        "metadata",
        "store",
        "service_tier",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
        "modalities",
    }
)
"""Chat fields accepted and ignored because they do not change the output (`modalities` must be ["text"])."""

COMPLETION_IGNORED_FIELDS: Final[frozenset[str]] = frozenset({"user"})
"""Text completion fields accepted and ignored."""

EMBEDDING_IGNORED_FIELDS: Final[frozenset[str]] = frozenset({"user"})
"""Embedding fields accepted and ignored."""


class _Strict(BaseModel):
    """Strict JSON types and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _Open(BaseModel):
    """Strict JSON types; unknown keys are kept in `model_extra` for the decoder to judge."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class StreamOptions(_Strict):
    """`stream_options`."""

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ImageURL(_Strict):
    """The object form of an `image_url` content part."""

    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ContentPart(_Open):
    """One element of a content array; its `type` decides which other keys matter."""

    type: str
    text: str | None = None
    image_url: Any = None
    refusal: str | None = None


class FunctionCall(_Strict):
    """A function call in history: `arguments` is a JSON string (an object is tolerated)."""

    name: str
    arguments: Any = None


class ToolCall(_Strict):
    """An assistant `tool_calls` entry."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall
    index: int | None = None


class ChatMessage(_Strict):
    """One chat message; which fields are allowed depends on `role`, which `decode` checks."""

    role: str
    content: Any = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    thinking: str | None = None
    refusal: str | None = None
    annotations: list[Any] | None = None
    audio: dict[str, Any] | None = None


class FunctionDef(_Strict):
    """A function a tool (or a legacy `functions` entry) describes."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Open):
    """A `tools` entry; only `type: "function"` is supported."""

    type: str
    function: FunctionDef | None = None


class JSONSchemaFormat(_Strict):
    """`response_format.json_schema`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Strict):
    """`response_format`."""

    type: str
    json_schema: JSONSchemaFormat | None = None


class Reasoning(_Strict):
    """OpenRouter-style `reasoning` object."""

    effort: Any = None
    exclude: bool | None = None
    enabled: bool | None = None
    max_tokens: int | None = None


class _Generation(_Open):
    """Fields shared by chat and text completions."""

    model: str
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: Any = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    max_tokens: int | None = None
    n: int | None = None
    logit_bias: dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    # Extensions: Ollama's own controls and the gateway's.
    think: Any = None
    reasoning_effort: Any = None
    reasoning: Reasoning | None = None
    exclude_reasoning: bool | None = None
    keep_alive: Any = None
    options: Any = None
    request_timeout: Any = None
    timeout_ms: Any = None


class ChatCompletionRequest(_Generation):
    """POST /v1/chat/completions."""

    messages: list[ChatMessage]
    max_completion_tokens: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[Tool] | None = None
    tool_choice: Any = None
    functions: list[FunctionDef] | None = None
    function_call: Any = None


class CompletionRequest(_Generation):
    """POST /v1/completions."""

    prompt: Any = None
    suffix: str | None = None
    best_of: int | None = None
    echo: bool | None = None
    logprobs: int | None = None
    raw: bool | None = None
    system: str | None = None
    images: list[str] | None = None


class EmbeddingRequest(_Open):
    """POST /v1/embeddings."""

    model: str
    input: Any = None
    dimensions: int | None = None
    encoding_format: Any = None
    truncate: bool | None = None
    keep_alive: Any = None
    options: Any = None


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate `data` as `model`; any failure becomes an InvalidRequestError naming the field."""
    if not isinstance(data, dict):
        if not prefix:
            raise InvalidRequestError("The request body must be a JSON object.")
        raise InvalidRequestError(f"Invalid type for '{prefix}': expected an object.", param=prefix)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, prefix) from None


def validation_error(exc: ValidationError, prefix: str = "") -> InvalidRequestError:
    """The first pydantic error as an OpenAI-style invalid request."""
    first = exc.errors(include_url=False)[0]
    param = join_param(prefix, first["loc"])
    kind = first["type"]
    if kind == "missing":
        return InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
    if kind == "extra_forbidden":
        return InvalidRequestError(f"Unrecognized argument: '{param}'.", param=param)
    if kind in ("literal_error", "enum"):
        return InvalidRequestError(f"Invalid value for '{param}': {first['msg']}.", param=param)
    return InvalidRequestError(f"Invalid type for '{param}': {first['msg']}.", param=param)


def join_param(prefix: str, loc: Sequence[int | str]) -> str:
    """A parameter path in the form `messages[0].content`."""
    out = prefix
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out = f"{out}.{item}" if out else item
    return out
