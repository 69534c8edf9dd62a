"""A scripted behaviour for agent clients: call a named tool on the first turn, answer once its result is back.

Agent CLIs (Claude Code, Codex) send side requests of their own (titles, summaries, ...) whose number and
order change between releases, so a fixed queue of replies does not fit them. `CallToolThenAnswer` looks at
each /api/chat request instead: a request that offers the tool and carries no result yet gets the call; one
whose last message is a tool result gets a text answer quoting that result; any other gets the default reply.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .replies import Reply, ToolCallSpec, split_words


@dataclass
class CallToolThenAnswer:
    """Call `tool` with `arguments` when it is offered; after a tool result, answer `answer` (`{result}` filled in)."""

    tool: str
    arguments: dict[str, Any]
    answer: str = "The tool said: {result}"
    calls: int = 0
    answers: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, path: str, body: dict[str, Any]) -> Reply | None:
        """The reply for one request, or None for the fake's default reply."""
        if path != "/api/chat":
            return None
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        offered = {t.get("function", {}).get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        with self._lock:
            if last.get("role") == "tool":
                self.answers += 1
                return Reply(content=split_words(self.answer.format(result=str(last.get("content") or ""))))
            if self.tool in offered:
                self.calls += 1
                return Reply(tool_calls=[ToolCallSpec(self.tool, dict(self.arguments))])
        return None
