"""Conversation content in the gateway's neutral form: messages, their parts, tools and tool calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class TextPart:
    """A run of plain text inside a message."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image: base64 `data` ready for Ollama, or a remote `url` that the gateway must fetch first."""

    data: str | None = None
    url: str | None = None
    media_type: str | None = None


Part = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call made by the model; `arguments` is always a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]
    index: int = 0


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call, described by a JSON schema."""

    name: str
    parameters: dict[str, Any]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation turn; a `tool` message carries the result of the call named by `tool_name`."""

    role: Role
    parts: tuple[Part, ...] = ()
    thinking: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_name: str | None = None
    tool_call_id: str | None = None
    is_error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The concatenated text parts."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        """The image parts, in order."""
        return tuple(p for p in self.parts if isinstance(p, ImagePart))
