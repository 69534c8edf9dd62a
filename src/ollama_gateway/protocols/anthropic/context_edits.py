"""Anthropic context editing (`context_management.edits`), applied to the conversation before translation. Pure.

- `clear_thinking_20251015`: `keep: "all"` (or `{type: "all"}`) changes nothing; `{type: "thinking_turns",
  value: N}` (default N = 1) keeps the thinking blocks of the last N assistant turns that have any and removes
  the others. Reported as `cleared_thinking_turns`.
- `clear_tool_uses_20250919`: once `trigger` is exceeded (default 100,000 input tokens; or a number of tool
  uses), every tool use but the last `keep` (default 3) and those of `exclude_tools` has its result replaced by
  a short placeholder; `clear_tool_inputs` (true, or a list of tool names) also empties their inputs. With
  `clear_at_least`, nothing is cleared unless at least that many tokens would be. Reported as `cleared_tool_uses`.

Token counts are the gateway's estimate (`estimate.py`), the same that count_tokens reports; each applied
edit reports `cleared_input_tokens` as the estimate before it minus the estimate after it. Edits run in the
order given, each on the result of the previous one; an edit that changes nothing is not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ollama_gateway.protocols.anthropic.context_schemas import (
    ClearThinkingEdit,
    ClearToolUsesEdit,
    ContextEdit,
    ThinkingTurns,
)
from ollama_gateway.protocols.anthropic.schemas import (
    InputMessage,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

DEFAULT_THINKING_TURNS: Final[int] = 1
DEFAULT_TRIGGER_INPUT_TOKENS: Final[int] = 100_000
DEFAULT_KEEP_TOOL_USES: Final[int] = 3
CLEARED_TOOL_RESULT: Final[str] = "[tool result cleared to save context]"

Estimate = Callable[[Sequence[InputMessage]], int]
Conversation = tuple[InputMessage, ...]


@dataclass(frozen=True, slots=True)
class EditedConversation:
    """The conversation after the edits, and the `applied_edits` entries for the response."""

    messages: tuple[InputMessage, ...]
    applied: tuple[dict[str, Any], ...]


def apply_context_edits(
    messages: Sequence[InputMessage], edits: Sequence[ContextEdit], estimate: Estimate
) -> EditedConversation:
    """Apply `edits` in order; `estimate` measures a conversation in input tokens."""
    current = tuple(messages)
    applied: list[dict[str, Any]] = []
    for edit in edits:
        before = estimate(current)
        if isinstance(edit, ClearThinkingEdit):
            edited, count = _clear_thinking(current, edit)
            key = "cleared_thinking_turns"
        else:
            edited, count = _clear_tool_uses(current, edit, before, estimate)
            key = "cleared_tool_uses"
        if count:
            applied.append({"type": edit.type, key: count, "cleared_input_tokens": max(0, before - estimate(edited))})
            current = edited
    return EditedConversation(current, tuple(applied))


# --- clear_thinking ---------------------------------------------------------------------------


def _is_thinking(block: Any) -> bool:
    return isinstance(block, ThinkingBlock | RedactedThinkingBlock)


def _clear_thinking(messages: Conversation, edit: ClearThinkingEdit) -> tuple[Conversation, int]:
    keep = edit.keep
    if not (keep is None or isinstance(keep, ThinkingTurns)):
        return messages, 0  # "all"
    kept = DEFAULT_THINKING_TURNS if keep is None else keep.value
    with_thinking = [
        i
        for i, m in enumerate(messages)
        if m.role == "assistant" and not isinstance(m.content, str) and any(_is_thinking(b) for b in m.content)
    ]
    clear = set(with_thinking[: max(0, len(with_thinking) - kept)])
    if not clear:
        return messages, 0
    out = tuple(
        m.model_copy(update={"content": [b for b in m.content if not _is_thinking(b)]}) if i in clear else m
        for i, m in enumerate(messages)
    )
    return out, len(clear)


# --- clear_tool_uses --------------------------------------------------------------------------


def _clear_tool_uses(
    messages: Conversation, edit: ClearToolUsesEdit, tokens: int, estimate: Estimate
) -> tuple[Conversation, int]:
    uses = [
        block
        for m in messages
        if m.role == "assistant" and not isinstance(m.content, str)
        for block in m.content
        if isinstance(block, ToolUseBlock)
    ]
    trigger = edit.trigger
    if trigger is None:
        triggered = tokens > DEFAULT_TRIGGER_INPUT_TOKENS
    elif trigger.type == "input_tokens":
        triggered = tokens > trigger.value
    else:
        triggered = len(uses) > trigger.value
    if not triggered:
        return messages, 0
    keep = DEFAULT_KEEP_TOOL_USES if edit.keep is None else edit.keep.value
    excluded = set(edit.exclude_tools or ())
    older = uses[: max(0, len(uses) - keep)]
    targets = {use.id: use.name for use in older if use.name not in excluded}
    if not targets:
        return messages, 0
    inputs = edit.clear_tool_inputs
    clear_inputs = set(targets) if inputs is True else {i for i, n in targets.items() if inputs and n in inputs}
    out = tuple(_clear_in(m, targets, clear_inputs) for m in messages)
    if edit.clear_at_least is not None and tokens - estimate(out) < edit.clear_at_least.value:
        return messages, 0
    return out, len(targets)


def _clear_in(message: InputMessage, results: dict[str, str], inputs: set[str]) -> InputMessage:
    if isinstance(message.content, str):
        return message
    blocks: list[Any] = []
    for block in message.content:
        if isinstance(block, ToolResultBlock) and block.tool_use_id in results:
            block = block.model_copy(update={"content": [TextBlock(type="text", text=CLEARED_TOOL_RESULT)]})
        elif isinstance(block, ToolUseBlock) and block.id in inputs:
            block = block.model_copy(update={"input": {}})
        blocks.append(block)
    return message.model_copy(update={"content": blocks})
