"""Neutral requests: what a client asked for, before and after policy fills in model overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ollama_gateway.core.messages import ImagePart, Message, ToolSpec

ThinkLevel = Literal["low", "medium", "high", "max"]
Think = bool | ThinkLevel
THINK_LEVELS: tuple[ThinkLevel, ...] = ("low", "medium", "high", "max")

# "none" sends no tools; "auto" lets the model choose; "required" or a function name narrows the choice.
ToolChoice = Literal["auto", "none", "required"] | str
Format = Literal["json"] | dict[str, Any]
KeepAlive = str | int | float


@dataclass(frozen=True, slots=True)
class GenerationControls:
    """Settings common to every generating request; model overrides fill the fields left as None."""

    options: Mapping[str, Any] = field(default_factory=dict)
    think: Think | None = None
    keep_alive: KeepAlive | None = None
    exclude_reasoning: bool | None = None
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat turn to run on Ollama's /api/chat."""

    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    controls: GenerationControls = field(default_factory=GenerationControls)
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    format: Format | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    # Stop sequences the gateway detects itself (so it can say which one matched); Ollama-native
    # stops go in controls.options["stop"] instead.
    stop_sequences: tuple[str, ...] = ()

    def bound_for(self, model: str, controls: GenerationControls, messages: tuple[Message, ...]) -> ChatRequest:
        """This request as it goes upstream: the upstream model, the merged controls, the inlined messages.

        `dataclasses.replace` with these three would walk every field; this runs on every chat request.
        """
        return ChatRequest(
            model,
            messages,
            self.stream,
            controls,
            self.tools,
            self.tool_choice,
            self.format,
            self.logprobs,
            self.top_logprobs,
            self.stop_sequences,
        )


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """A raw completion to run on Ollama's /api/generate."""

    model: str
    prompt: str
    stream: bool = False
    controls: GenerationControls = field(default_factory=GenerationControls)
    suffix: str | None = None
    system: str | None = None
    images: tuple[ImagePart, ...] = ()
    raw: bool | None = None
    format: Format | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None


@dataclass(frozen=True, slots=True)
class EmbedRequest:
    """Texts to embed with Ollama's /api/embed."""

    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None
    truncate: bool | None = None
    controls: GenerationControls = field(default_factory=GenerationControls)
