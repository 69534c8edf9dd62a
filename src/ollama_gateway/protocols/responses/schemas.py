"""Pydantic models of `POST /v1/responses` bodies, and the tables that sort their fields.

Shapes and JSON types are checked here; meaning (roles, item order, refusals) in `decode`. Fields that
take several shapes (`input`, `content`, `tool_choice`, `output`, `think`) are `Any` and checked by hand
so every error names its field. The top-level model keeps unknown keys for `decode` to sort.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

IGNORED_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "metadata",
        "user",
        "store",
        "parallel_tool_calls",
        "service_tier",
        "truncation",
        "include",
        "max_tool_calls",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "safety_identifier",
        "stream_options",
        "client_metadata",
    }
)
"""Fields accepted and ignored: they do not change what the model produces (checked in `decode`)."""

STATEFUL_FIELDS: Final[Mapping[str, str]] = {
    "previous_response_id": "the gateway keeps no responses; send the whole conversation in 'input'",
    "conversation": "the gateway keeps no conversations; send the whole conversation in 'input'",
    "prompt": "stored prompts are not available; send 'instructions' and 'input' instead",
    "context_management": "server-side compaction needs stored state; send the conversation in 'input'",
    "background": "background responses need stored state; use stream or wait for the response",
}
"""Stateful features: refused with a 400 saying what to do instead."""

UNSUPPORTED_FIELDS: Final[Mapping[str, str]] = {
    "top_logprobs": "log probabilities are not available on /v1/responses; use /v1/chat/completions",
    "moderation": "moderation is not available",
    "access_programs": "access programs are not available",
    "image": "image context options are not available",
    "background_options": "background responses are not available",
}
"""Known fields asking for something the gateway cannot do (a null or empty value is tolerated)."""

IGNORED_INCLUDES: Final[frozenset[str]] = frozenset(
    {
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
        "message.input_image.image_url",
        "reasoning.encrypted_content",
    }
)
"""`include` values with nothing to add here (no built-in tools, no encrypted reasoning); others are a 400."""


class Strict(BaseModel):
    """Strict JSON types and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Open(BaseModel):
    """Strict JSON types; unknown keys are kept in `model_extra` for the decoder to judge."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class ReasoningConfig(Strict):
    """`reasoning`: effort maps to Ollama's `think`; summary is accepted (summaries are always sent)."""

    effort: Any = None
    summary: Any = None
    generate_summary: Any = None
    # Which turns' reasoning the model keeps; only "all_turns" matches a stateless gateway (it renders every
    # reasoning item the client sends).
    context: Any = None


class TextFormat(Strict):
    """`text.format`: text, json_object, or json_schema with its schema inline."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    type: str
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextConfig(Strict):
    """`text`: the output format and a verbosity hint (ignored)."""

    format: TextFormat | None = None
    verbosity: str | None = None


class FunctionTool(Strict):
    """A `function` tool as the Responses API declares it (flat, not nested under `function`)."""

    type: str
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


HOSTED_TOOL_TYPES: Final[frozenset[str]] = frozenset(
    {
        "web_search",
        "web_search_preview",
        "web_search_preview_2025_03_11",
        "web_search_2025_08_26",
        "file_search",
        "code_interpreter",
        "image_generation",
        "computer_use_preview",
        "computer_use",
        "mcp",
    }
)
"""Tools OpenAI runs on its own side: the model may use them there; Ollama cannot (HOSTED_TOOLS decides)."""


class CustomTool(Strict):
    """A `custom` tool: the model calls it with free text (shaped by an optional grammar), not a JSON object."""

    type: str
    name: str = Field(min_length=1)
    description: str | None = None
    format: dict[str, Any] | None = None


class NamespaceTool(Strict):
    """A `namespace` tool: a named group of function tools (Codex's multi-agent tools come as one)."""

    type: str
    name: str = Field(min_length=1)
    description: str | None = None
    tools: list[dict[str, Any]]


class InputPart(Open):
    """One element of a message's `content` array; its `type` decides which other keys matter."""

    type: str
    text: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    refusal: str | None = None
    annotations: list[Any] | None = None
    logprobs: list[Any] | None = None


class MessageItem(Strict):
    """A message item (`type` may be omitted, as in the SDK's easy input messages)."""

    role: str
    content: Any = None
    type: str | None = None
    id: str | None = None
    status: str | None = None
    phase: str | None = None


class FunctionCallItem(Strict):
    """A `function_call` the model made earlier: `arguments` is the JSON text of an object."""

    type: str
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None


class CustomToolCallItem(Strict):
    """A `custom_tool_call` the model made earlier: `input` is the free text it called the tool with."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    type: str
    call_id: str
    name: str
    input: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None
    caller: dict[str, Any] | None = None
    async_: bool | None = Field(default=None, alias="async")


class FunctionCallOutputItem(Strict):
    """A `function_call_output` (or `custom_tool_call_output`): the result of the call named by `call_id`."""

    type: str
    call_id: str
    output: Any = None
    id: str | None = None
    status: str | None = None


class SummaryText(Strict):
    """One `summary_text` (or `reasoning_text`) entry of a reasoning item."""

    type: str
    text: str


class ReasoningItem(Strict):
    """A `reasoning` item from an earlier turn; its text becomes the assistant turn's thinking."""

    type: str
    id: str | None = None
    summary: list[SummaryText] = Field(default_factory=list)
    content: list[SummaryText] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class ResponsesRequest(Open):
    """POST /v1/responses; unknown keys are sorted into Ollama options, ignored fields and 400s."""

    model: str
    input: Any = None
    instructions: Any = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    # Extensions: Ollama's own controls and the gateway's, as on the chat surface.
    think: Any = None
    keep_alive: Any = None
    options: Any = None
    exclude_reasoning: bool | None = None
    request_timeout: Any = None
    timeout_ms: Any = None
