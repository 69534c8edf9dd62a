"""What a decoder does with a request part Ollama cannot honour: refuse it, or drop it and say so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

HostedTools = Literal["drop", "refuse"]
UnsupportedFields = Literal["refuse", "drop"]


@dataclass(frozen=True, slots=True)
class Leniency:
    """The operator's choice (settings HOSTED_TOOLS and UNSUPPORTED_FIELDS) handed to the pure decoders."""

    hosted_tools: HostedTools = "drop"
    unsupported_fields: UnsupportedFields = "refuse"


STRICT = Leniency(hosted_tools="refuse", unsupported_fields="refuse")
"""Refuse everything the gateway cannot honour (what the decoders did before these settings existed)."""


@dataclass(frozen=True, slots=True)
class Dropped:
    """What a decoder removed from a request under a lenient setting, for the response headers and the log."""

    tools: tuple[str, ...] = field(default=())
    fields: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.tools or self.fields)
