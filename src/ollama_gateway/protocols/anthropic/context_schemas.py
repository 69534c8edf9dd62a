"""Pydantic models of Anthropic's `context_management` request field (context editing), validated strictly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ThinkingTurns(_Wire):
    """Keep the thinking of the last `value` assistant turns that have some."""

    type: Literal["thinking_turns"]
    value: int = Field(ge=0)


class AllThinkingTurns(_Wire):
    """Keep all thinking."""

    type: Literal["all"]


class InputTokens(_Wire):
    """A number of input tokens (a trigger or a minimum to clear), measured with the gateway's estimate."""

    type: Literal["input_tokens"]
    value: int = Field(ge=0)


class ToolUses(_Wire):
    """A number of tool uses (a trigger or how many to keep)."""

    type: Literal["tool_uses"]
    value: int = Field(ge=0)


class ClearThinkingEdit(_Wire):
    """`clear_thinking_20251015`: drop the thinking of older assistant turns."""

    type: Literal["clear_thinking_20251015"]
    keep: Annotated[ThinkingTurns | AllThinkingTurns, Field(discriminator="type")] | Literal["all"] | None = None


class ClearToolUsesEdit(_Wire):
    """`clear_tool_uses_20250919`: replace old tool results (and optionally inputs) once the context is large."""

    type: Literal["clear_tool_uses_20250919"]
    trigger: Annotated[InputTokens | ToolUses, Field(discriminator="type")] | None = None
    keep: ToolUses | None = None
    clear_at_least: InputTokens | None = None
    exclude_tools: list[str] | None = None
    clear_tool_inputs: bool | list[str] | None = None


ContextEdit = Annotated[ClearThinkingEdit | ClearToolUsesEdit, Field(discriminator="type")]


class ContextManagement(_Wire):
    """`context_management`: edits applied to the conversation before it reaches the model."""

    edits: list[ContextEdit] = Field(default_factory=list)
