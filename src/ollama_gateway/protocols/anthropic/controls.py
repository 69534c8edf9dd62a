"""Generation controls from an Anthropic request: Ollama options (type-checked) and the think level.

Thinking precedence, strongest first:
1. the gateway's own `think` field (Ollama-native, the most specific thing a client can say);
2. `thinking: {type: "disabled"}` → False (effort cannot turn thinking back on);
3. `output_config.effort` → its level (the current API's depth control; `budget_tokens` is deprecated);
4. `thinking.type`: `enabled` → a level from `budget_tokens` (see `BUDGET_LEVELS`), `adaptive` → True,
   `between_tools` → True only when the request continues after tool results, else False;
5. nothing → None, so Ollama's (or the model override's) default applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ollama_gateway.core.options import OLLAMA_OPTIONS
from ollama_gateway.core.requests import Think, ThinkLevel
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic.schemas import (
    Effort,
    ThinkingAdaptive,
    ThinkingBetweenTools,
    ThinkingConfig,
    ThinkingDisabled,
    ThinkingEnabled,
)

# Ollama's runner options (reference §2.2) with the JSON type each must have: one table, in core.
OLLAMA_OPTION_TYPES = OLLAMA_OPTIONS

# `thinking.budget_tokens` below each bound maps to that level; larger budgets map to "high".
BUDGET_LEVELS: Final[tuple[tuple[int, ThinkLevel], ...]] = ((4096, "low"), (16384, "medium"))
BUDGET_LEVEL_ABOVE: Final[ThinkLevel] = "high"

# `output_config.effort` → Ollama think level; Ollama has no "xhigh", and maps it to "high" itself.
EFFORT_LEVELS: Final[Mapping[Effort, ThinkLevel]] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "max",
}


def check_option(name: str, value: Any, where: str) -> Any:
    """Return `value` if it has the JSON type Ollama expects for option `name`, else raise."""
    kind = OLLAMA_OPTION_TYPES[name]
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        expected = {"int": "an integer", "float": "a number", "bool": "a boolean", "str_list": "an array of strings"}
        raise InvalidRequestError(f"{where}: must be {expected[kind]}", param=where)
    return value


def merge_options(top_level: Mapping[str, Any], nested: Mapping[str, Any] | None) -> dict[str, Any]:
    """Ollama options given at the top level and in `options`, type-checked; the same key twice must agree."""
    options = {name: check_option(name, value, name) for name, value in top_level.items()}
    for name, value in (nested or {}).items():
        if name not in OLLAMA_OPTION_TYPES:
            raise InvalidRequestError(f"options.{name}: unknown Ollama option", param=f"options.{name}")
        check_option(name, value, f"options.{name}")
        if name in options and options[name] != value:
            raise InvalidRequestError(
                f"options.{name}: conflicts with the top-level {name} ({options[name]!r} != {value!r})",
                param=f"options.{name}",
            )
        options[name] = value
    return options


def budget_level(budget_tokens: int) -> ThinkLevel:
    """The think level for a manual thinking budget (see `BUDGET_LEVELS`)."""
    for bound, level in BUDGET_LEVELS:
        if budget_tokens < bound:
            return level
    return BUDGET_LEVEL_ABOVE


def think_value(
    *,
    think: Think | None,
    thinking: ThinkingConfig | None,
    effort: Effort | None,
    after_tool_results: bool,
) -> Think | None:
    """The Ollama `think` value, by the precedence in this module's docstring."""
    if think is not None:
        return think
    if isinstance(thinking, ThinkingDisabled):
        return False
    if effort is not None:
        if isinstance(thinking, ThinkingBetweenTools) and not after_tool_results:
            return False
        return EFFORT_LEVELS[effort]
    match thinking:
        case ThinkingEnabled(budget_tokens=budget):
            return budget_level(budget)
        case ThinkingAdaptive():
            return True
        case ThinkingBetweenTools():
            return after_tool_results
        case _:
            return None
