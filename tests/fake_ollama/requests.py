"""Ollama's request structs (api/types.go) and the field checks that run before or during scheduling."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .decoding import ANY, BOOL, INT, STRING, TYPE_ERROR, Custom, Kind, Map, Slice, Struct
from .errors import OllamaError, invalid_format, option_type

THINK_LEVELS = ("low", "medium", "high", "max")

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)([^\d.]*)")


def _check_think(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if value in THINK_LEVELS:
            return None
        return f'invalid think value: "{value}" (must be "high", "medium", "low", "max", true, or false)'
    return 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)'


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (`"5m"`, `"1h30m"`, `"-1s"`); ValueError with Go's text otherwise."""
    quoted = json.dumps(text, ensure_ascii=False)
    rest = text
    sign = 1.0
    if rest[:1] in "+-" and rest:
        sign = -1.0 if rest[0] == "-" else 1.0
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0.0
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None:
            raise ValueError(f"time: invalid duration {quoted}")
        number, unit = match.groups()
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"time: unknown unit {json.dumps(unit, ensure_ascii=False)} in duration {quoted}")
        total += float(number) * _DURATION_UNITS[unit]
        rest = rest[match.end() :]
    return sign * total


def _check_duration(value: Any) -> str | None:
    if isinstance(value, bool):
        return "Unsupported type: 'bool'"
    if isinstance(value, int | float):
        return None
    if isinstance(value, str):
        try:
            parse_go_duration(value)
        except ValueError as exc:
            return str(exc)
        return None
    kind = "[]interface {}" if isinstance(value, list) else "map[string]interface {}"
    return f"Unsupported type: '{kind}'"


def _check_image(value: Any) -> str | None:
    if not isinstance(value, str):
        return TYPE_ERROR
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        bad = next((i for i, ch in enumerate(value) if not (ch.isalnum() or ch in "+/=")), len(value) // 4 * 4)
        return f"illegal base64 data at input byte {bad}"
    return None


THINK = Custom(_check_think)
DURATION = Custom(_check_duration)
IMAGE = Custom(_check_image, "api.ImageData")
OPTIONS = Map(ANY, "map[string]interface {}")

TOOL_CALL = Struct(
    "api.ToolCall",
    {
        "id": STRING,
        "function": Struct(
            "api.ToolCallFunction",
            {"index": INT, "name": STRING, "arguments": Map(ANY, "api.ToolCallFunctionArguments")},
        ),
    },
)
MESSAGE = Struct(
    "api.Message",
    {
        "role": STRING,
        "content": STRING,
        "thinking": STRING,
        "images": Slice(IMAGE, "[]api.ImageData"),
        "tool_calls": Slice(TOOL_CALL, "[]api.ToolCall"),
        "tool_name": STRING,
        "tool_call_id": STRING,
    },
)
TOOL = Struct(
    "api.Tool",
    {
        "type": STRING,
        "items": ANY,
        "function": Struct(
            "api.ToolFunction",
            {
                "name": STRING,
                "description": STRING,
                "parameters": Struct(
                    "api.ToolFunctionParameters",
                    {
                        "type": STRING,
                        "$defs": ANY,
                        "items": ANY,
                        "required": Slice(STRING, "[]string"),
                        "properties": Map(ANY, "map[string]api.ToolProperty"),
                    },
                ),
            },
        ),
    },
)
_GENERATION_COMMON: dict[str, Kind] = {
    "model": STRING,
    "stream": BOOL,
    "format": ANY,
    "keep_alive": DURATION,
    "options": OPTIONS,
    "think": THINK,
    "truncate": BOOL,
    "shift": BOOL,
    "logprobs": BOOL,
    "top_logprobs": INT,
    "_debug_render_only": BOOL,
}
CHAT = Struct(
    "api.ChatRequest",
    {**_GENERATION_COMMON, "messages": Slice(MESSAGE, "[]api.Message"), "tools": Slice(TOOL, "api.Tools")},
)
GENERATE = Struct(
    "api.GenerateRequest",
    {
        **_GENERATION_COMMON,
        "prompt": STRING,
        "suffix": STRING,
        "system": STRING,
        "template": STRING,
        "context": Slice(INT, "[]int"),
        "raw": BOOL,
        "images": Slice(IMAGE, "[]api.ImageData"),
    },
)
EMBED = Struct(
    "api.EmbedRequest",
    {"model": STRING, "input": ANY, "keep_alive": DURATION, "truncate": BOOL, "dimensions": INT, "options": OPTIONS},
)
EMBEDDINGS = Struct(
    "api.EmbeddingRequest", {"model": STRING, "prompt": STRING, "keep_alive": DURATION, "options": OPTIONS}
)
SHOW = Struct(
    "api.ShowRequest",
    {"model": STRING, "system": STRING, "template": STRING, "verbose": BOOL, "options": OPTIONS, "name": STRING},
)
PULL = Struct(
    "api.PullRequest",
    {"model": STRING, "insecure": BOOL, "username": STRING, "password": STRING, "stream": BOOL, "name": STRING},
)
DELETE = Struct("api.DeleteRequest", {"model": STRING, "name": STRING})
COPY = Struct("api.CopyRequest", {"source": STRING, "destination": STRING})

# Options.FromMap: option name -> Go kind.
OPTION_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "num_ctx", "num_batch", "num_gpu", "main_gpu"),
        "int",
    ),
    **dict.fromkeys(("num_thread", "draft_num_predict"), "int"),
    **dict.fromkeys(
        ("top_p", "min_p", "typical_p", "temperature", "repeat_penalty", "presence_penalty", "frequency_penalty"),
        "float",
    ),
    "use_mmap": "bool",
    "stop": "strings",
}


def validate_options(options: dict[str, Any] | None) -> None:
    """Options.FromMap: unknown keys ignored, null skipped, a wrong type is a 500 from scheduleRunner."""
    for key, value in (options or {}).items():
        kind = OPTION_KINDS.get(key)
        if kind is None or value is None:
            continue
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "int" and not is_number:
            raise OllamaError(500, option_type(key, "integer"))
        if kind == "float" and not is_number:
            raise OllamaError(500, option_type(key, "float32"))
        if kind == "bool" and not isinstance(value, bool):
            raise OllamaError(500, option_type(key, "boolean"))
        if kind == "strings":
            if not isinstance(value, list):
                raise OllamaError(500, option_type(key, "array"))
            if not all(isinstance(item, str) for item in value):
                raise OllamaError(500, f'option "{key}" must be of an array of strings')


def format_error(value: Any) -> str | None:
    """The error text for a `format` that is not null, "", "json" or an object (raised during generation)."""
    if value is None or value in ("", "json") or isinstance(value, dict):
        return None
    return invalid_format(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def keep_alive_seconds(body: dict[str, Any]) -> float | None:
    """The request's keep_alive in seconds (negative = forever), or None when absent."""
    value = body.get("keep_alive")
    if value is None:
        return None
    if isinstance(value, str):
        return parse_go_duration(value)
    return float(value)


def option_int(body: dict[str, Any], key: str) -> int | None:
    """An integer option from `options`, as Ollama would read it (numbers truncated), else None."""
    value = (body.get("options") or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None
