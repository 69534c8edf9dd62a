"""Ollama's runtime options and their types: the one table every adapter and the override policy check against."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

OptionType = Literal["int", "float", "bool", "str_list"]

OLLAMA_OPTIONS: Mapping[str, OptionType] = {
    # sampling / prediction
    "num_keep": "int",
    "seed": "int",
    "num_predict": "int",
    "top_k": "int",
    "top_p": "float",
    "min_p": "float",
    "typical_p": "float",
    "repeat_last_n": "int",
    "temperature": "float",
    "repeat_penalty": "float",
    "presence_penalty": "float",
    "frequency_penalty": "float",
    "stop": "str_list",
    # load time (runner)
    "num_ctx": "int",
    "num_batch": "int",
    "num_gpu": "int",
    "main_gpu": "int",
    "use_mmap": "bool",
    "num_thread": "int",
    "draft_num_predict": "int",
}


def option_type_error(name: str, value: Any) -> str | None:
    """Why `value` is not valid for option `name`, or None when it is (unknown names are the caller's call)."""
    kind = OLLAMA_OPTIONS.get(name)
    if kind is None:
        return None
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if ok:
        return None
    expected = {"int": "an integer", "float": "a number", "bool": "a boolean", "str_list": "a list of strings"}[kind]
    return f"option {name!r} must be {expected}"
