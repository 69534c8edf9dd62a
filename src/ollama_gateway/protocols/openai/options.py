"""Ollama option names and types, reasoning-effort mapping, and the checks the OpenAI decoders share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from ollama_gateway.core.options import OLLAMA_OPTIONS, OptionType
from ollama_gateway.core.requests import THINK_LEVELS, KeepAlive, Think
from ollama_gateway.errors import InvalidRequestError

RETIRED_OPTIONS: Final[frozenset[str]] = frozenset(
    {
        "penalize_newline",
        "numa",
        "mirostat",
        "mirostat_eta",
        "mirostat_tau",
        "tfs_z",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mlock",
    }
)
"""Options older Ollama versions had: accepted inside `options` and dropped, since Ollama ignores them too."""

REASONING_EFFORT_TO_THINK: Final[Mapping[str, Think]] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "max",
    "xhigh": "max",
    "ultra": "max",
}
"""OpenAI / OpenRouter reasoning effort → Ollama `think` (as Ollama's own /v1 layer maps it, §2.5)."""

_TYPE_NAMES: Final[Mapping[OptionType, str]] = {
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "str_list": "a string or an array of strings",
}


def _type_error(param: str, expected: str, value: Any) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid type for '{param}': expected {expected}, but got {json_type_name(value)} instead.", param=param
    )


def json_type_name(value: Any) -> str:
    """The JSON type of a parsed value, for error messages."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int():
            return "an integer"
        case float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
        case _:
            return type(value).__name__


def check_option(name: str, value: Any, param: str) -> Any:
    """Check one Ollama option value against its type; return it normalised (`stop` string → list)."""
    kind = OLLAMA_OPTIONS[name]
    match kind:
        case "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _type_error(param, _TYPE_NAMES[kind], value)
            return value
        case "float":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise _type_error(param, _TYPE_NAMES[kind], value)
            return value
        case "bool":
            if not isinstance(value, bool):
                raise _type_error(param, _TYPE_NAMES[kind], value)
            return value
        case "str_list":
            return check_stop(value, param)


def check_stop(value: Any, param: str) -> list[str]:
    """A stop value: a string or an array of strings, as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise _type_error(param, _TYPE_NAMES["str_list"], value)


def collect_options(options: Any, top_level: Mapping[str, Any]) -> dict[str, Any]:
    """Merge the `options` object with Ollama option names given at the top level (the top level wins)."""
    merged: dict[str, Any] = {}
    if options is not None:
        if not isinstance(options, dict):
            raise _type_error("options", "an object", options)
        for name, value in options.items():
            if name in RETIRED_OPTIONS:
                continue
            if name not in OLLAMA_OPTIONS:
                raise InvalidRequestError(f"Unknown Ollama option '{name}'.", param=f"options.{name}")
            if value is not None:
                merged[name] = check_option(name, value, f"options.{name}")
    for name, value in top_level.items():
        if value is not None:
            merged[name] = check_option(name, value, name)
    return merged


def parse_think(value: Any, param: str = "think") -> Think | None:
    """Ollama's `think`: a boolean, a level, or "none" (→ False); null leaves it unset."""
    if value is None or isinstance(value, bool):
        return value
    if value == "none":
        return False
    if isinstance(value, str):
        for level in THINK_LEVELS:
            if value == level:
                return level
    raise InvalidRequestError(
        f"Invalid value for '{param}': expected true, false, 'none', 'low', 'medium', 'high' or 'max'.", param=param
    )


def parse_effort(value: Any, param: str) -> Think | None:
    """A reasoning effort string mapped to `think`; null or "" leaves it unset."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in REASONING_EFFORT_TO_THINK:
        return REASONING_EFFORT_TO_THINK[value]
    allowed = ", ".join(f"'{name}'" for name in REASONING_EFFORT_TO_THINK)
    raise InvalidRequestError(f"Invalid value for '{param}': {value!r}; expected one of {allowed}.", param=param)


def parse_keep_alive(value: Any) -> KeepAlive | None:
    """`keep_alive`: seconds as a number, or a Go duration string such as "5m"."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _type_error("keep_alive", "a number of seconds or a duration string", value)
    if isinstance(value, str) and not value.strip():
        raise InvalidRequestError("Invalid value for 'keep_alive': empty duration.", param="keep_alive")
    return value


def parse_timeout_ms(request_timeout: Any, timeout_ms: Any) -> int | None:
    """The gateway timeout extension: `timeout_ms` or `request_timeout`, both milliseconds (as in model overrides)."""
    if timeout_ms is not None:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
            raise _type_error("timeout_ms", "an integer", timeout_ms)
        if timeout_ms <= 0:
            raise InvalidRequestError("'timeout_ms' must be a positive number of milliseconds.", param="timeout_ms")
        return timeout_ms
    if request_timeout is not None:
        if isinstance(request_timeout, bool) or not isinstance(request_timeout, int | float):
            raise _type_error("request_timeout", "a number of milliseconds", request_timeout)
        if not math.isfinite(request_timeout) or request_timeout <= 0:
            raise InvalidRequestError(
                "'request_timeout' must be a positive number of milliseconds.", param="request_timeout"
            )
        return max(1, round(request_timeout))
    return None
