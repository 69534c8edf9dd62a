"""Pydantic models of the Anthropic Messages request, validated strictly; failures become InvalidRequestError.

Only the wire shape lives here. What each field *means* for Ollama is decided in `decode.py`.
Models are strict (no "5" → 5 coercion) and forbid unknown keys, except for a few per-block metadata
keys that carry no content (`cache_control`, `citations`, `caller`, `toolset_name`), which are accepted
and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from ollama_gateway.core.leniency import Dropped
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic.context_schemas import ContextManagement

ThinkingDisplay = Literal["summarized", "omitted"]
Effort = Literal["low", "medium", "high", "xhigh", "max"]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- content blocks ---------------------------------------------------------------------------


class TextBlock(_Wire):
    """A run of text; request-side citations are metadata and are ignored."""

    type: Literal["text"]
    text: str
    cache_control: dict[str, Any] | None = None
    citations: list[dict[str, Any]] | None = None


class Base64ImageSource(_Wire):
    """Inline image bytes."""

    type: Literal["base64"]
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: str


class URLImageSource(_Wire):
    """A remote image the web layer fetches (http/https only)."""

    type: Literal["url"]
    url: str


ImageSource = Annotated[Base64ImageSource | URLImageSource, Field(discriminator="type")]


class ImageBlock(_Wire):
    """An image; `transformations` would change the pixels, so only null is accepted."""

    type: Literal["image"]
    source: ImageSource
    cache_control: dict[str, Any] | None = None
    transformations: None = None


class ToolUseBlock(_Wire):
    """A tool call the assistant made earlier in the conversation."""

    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]
    cache_control: dict[str, Any] | None = None
    caller: dict[str, Any] | None = None
    toolset_name: str | None = None


class ToolReferenceBlock(_Wire):
    """A tool search result naming a (deferred) tool; Ollama is sent every tool, so it only tells the model so."""

    type: Literal["tool_reference"]
    tool_name: str
    cache_control: dict[str, Any] | None = None


ToolResultContent = Annotated[TextBlock | ImageBlock | ToolReferenceBlock, Field(discriminator="type")]


class ToolResultBlock(_Wire):
    """The result of a tool call, sent back by the user."""

    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[ToolResultContent] | None = None
    is_error: bool | None = None
    cache_control: dict[str, Any] | None = None
    toolset_name: str | None = None


class ThinkingBlock(_Wire):
    """Reasoning from an earlier assistant turn; the signature is never verified."""

    type: Literal["thinking"]
    thinking: str
    signature: str | None = None
    cache_control: dict[str, Any] | None = None


class RedactedThinkingBlock(_Wire):
    """Encrypted reasoning from Anthropic's own models; no Ollama model can read it."""

    type: Literal["redacted_thinking"]
    data: str
    cache_control: dict[str, Any] | None = None


ContentBlock = Annotated[
    TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock,
    Field(discriminator="type"),
]


class InputMessage(_Wire):
    """One conversation turn; a `system` turn (text only) becomes an Ollama system message at its position."""

    role: Literal["user", "assistant", "system"]
    content: str | list[ContentBlock]


# --- tools ------------------------------------------------------------------------------------


class CustomTool(_Wire):
    """A client tool in Anthropic form."""

    name: str = Field(min_length=1)
    input_schema: dict[str, Any]
    description: str | None = None
    type: Literal["custom"] | None = None
    input_examples: list[dict[str, Any]] | None = None
    # Accepted and ignored: none of these changes what the model is told or produces on Ollama.
    cache_control: dict[str, Any] | None = None
    strict: bool | None = None
    defer_loading: bool | None = None
    eager_input_streaming: bool | None = None
    allowed_callers: list[str] | None = None


class FunctionDefinition(_Wire):
    """The `function` object of an OpenAI-style tool."""

    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(_Wire):
    """An OpenAI-style tool, accepted for convenience."""

    type: Literal["function"]
    function: FunctionDefinition


def _tool_kind(value: Any) -> str:
    return "function" if isinstance(value, dict) and value.get("type") == "function" else "custom"


Tool = Annotated[
    Annotated[CustomTool, Tag("custom")] | Annotated[FunctionTool, Tag("function")], Discriminator(_tool_kind)
]


class ToolChoiceAuto(_Wire):
    """The model decides."""

    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(_Wire):
    """The model must call some tool."""

    type: Literal["any"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceTool(_Wire):
    """The model must call the named tool."""

    type: Literal["tool"]
    name: str
    disable_parallel_tool_use: bool | None = None


class ToolChoiceNone(_Wire):
    """The model may not call tools."""

    type: Literal["none"]


ToolChoice = Annotated[ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone, Field(discriminator="type")]


# --- thinking and output ----------------------------------------------------------------------


class ThinkingEnabled(_Wire):
    """Manual extended thinking with a token budget (not enforced by Ollama; mapped to a level)."""

    type: Literal["enabled"]
    budget_tokens: int = Field(gt=0)
    display: ThinkingDisplay | None = None


class ThinkingAdaptive(_Wire):
    """The model decides how much to think."""

    type: Literal["adaptive"]
    display: ThinkingDisplay | None = None


class ThinkingBetweenTools(_Wire):
    """Thinking only between tool calls, not before the first answer."""

    type: Literal["between_tools"]
    display: ThinkingDisplay | None = None


class ThinkingDisabled(_Wire):
    """No thinking."""

    type: Literal["disabled"]


ThinkingConfig = Annotated[
    ThinkingEnabled | ThinkingAdaptive | ThinkingBetweenTools | ThinkingDisabled, Field(discriminator="type")
]


class JSONSchemaFormat(_Wire):
    """Structured output constrained by a JSON schema."""

    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(_Wire):
    """Output controls: effort (→ think level) and format (→ Ollama `format`)."""

    effort: Effort | None = None
    format: JSONSchemaFormat | None = None


# --- the request ------------------------------------------------------------------------------


class MessagesRequest(_Wire):
    """The Anthropic fields of a Messages request; Ollama options are split off before validation."""

    model: str = Field(min_length=1)
    messages: list[InputMessage]
    max_tokens: int | None = Field(default=None, gt=0)
    system: str | list[TextBlock] | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None
    context_management: ContextManagement | None = None
    # Gateway extensions.
    options: dict[str, Any] | None = None
    keep_alive: str | int | float | None = None
    think: bool | Literal["low", "medium", "high", "max"] | None = None


@dataclass(frozen=True, slots=True)
class MessagesOptions:
    """Anthropic-only response options the encoders need; everything else travels in the core request."""

    thinking_display: ThinkingDisplay = "summarized"
    stop_sequences: tuple[str, ...] = ()
    disable_parallel_tool_use: bool = False
    # The response's `context_management.applied_edits`; None when the request asked for no context management.
    applied_edits: tuple[dict[str, Any], ...] | None = None
    # The estimate before context edits (count_tokens reports it as `original_input_tokens`).
    original_input_tokens: int | None = None
    dropped: Dropped = field(default_factory=Dropped)


_M = TypeVar("_M", bound=BaseModel)


def validate(model: type[_M], data: Any) -> _M:
    """Validate `data` as `model`, turning the first pydantic error into a readable InvalidRequestError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, data) from None


def _invalid(exc: ValidationError, data: Any) -> InvalidRequestError:
    # Of the errors pydantic reports for each union member, the one reaching deepest into the data is
    # about the member the client meant; at equal depth an unsupported type beats a sibling's complaint.
    located = [(error_path(e["loc"], data), e) for e in exc.errors(include_url=False)]
    path, first = min(located, key=lambda pe: (-len(pe[0].split(".")), pe[1]["type"] != "union_tag_invalid"))
    if first["type"] == "union_tag_invalid":
        ctx = first.get("ctx", {})
        message = f"{path}: unsupported type {ctx.get('tag')} (supported: {ctx.get('expected_tags')})"
    elif first["type"] == "extra_forbidden":
        message = f"{path}: unknown field"
    else:
        message = f"{path}: {first['msg']}" if path else first["msg"]
    return InvalidRequestError(message, param=path or None)


def error_path(loc: tuple[int | str, ...], data: Any) -> str:
    """A dotted path into the request, without the union member names and tags pydantic adds to `loc`."""
    kept: list[str] = []
    current = data
    tag_seen = False  # a discriminator tag appears once per level, before the field names
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(part, int):
            kept.append(str(part))
            current = current[part] if isinstance(current, list) and 0 <= part < len(current) else None
            tag_seen = False
        elif not isinstance(current, dict):
            continue  # a union member name such as "str" or "list[...]"
        elif part == current.get("type") and not last and not tag_seen:
            tag_seen = True
        elif part in current:
            kept.append(part)
            current = current[part]
            tag_seen = False
        elif last:
            kept.append(part)  # a missing or unknown field
    return ".".join(kept)
