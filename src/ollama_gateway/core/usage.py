"""Token accounting in the gateway's neutral form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts for one request, as Ollama reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


NO_USAGE = Usage()
"""No tokens yet (Usage is frozen, so one instance serves every request that has none)."""
