"""What a model "says": scripted replies and the deterministic default reply derived from the request."""

from __future__ import annotations

import json
import random
import re
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import MID_STREAM

_WORDS = re.compile(r"\s*\S+|\s+$")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class ToolCallSpec:
    """A tool call the model makes; `id` defaults to `call_` + 8 lower-case alphanumerics, `index` to position."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    index: int | None = None


@dataclass
class Reply:
    """A scripted reply for one /api/chat or /api/generate request.

    `content=None` (and no tool calls) means "derive the default content from the request"; only then is default
    thinking derived too. Otherwise the lists are streamed verbatim: thinking chunks, content chunks, then one chunk
    with every tool call. `error` fails the request after `error_after` chunks (0: before any output, as a status).
    `hold` makes the stream wait after `hold_after` chunks until the event is set; `held` is set when it gets there.
    """

    content: list[str] | None = None
    thinking: list[str] | None = None
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    done_reason: str = "stop"
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    metrics: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    error_status: int = 500
    error_after: int = 0
    first_chunk_delay: float = 0.0
    chunk_delay: float = 0.0
    hold: threading.Event | None = None
    hold_after: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    logprobs: list[list[dict[str, Any]]] | None = None
    context: list[int] | None = None

    @classmethod
    def failing(cls, error: str = MID_STREAM, *, after: int = 0, status: int = 500) -> Reply:
        """A reply that fails: before output with `status` (after=0), or mid-stream after `after` chunks."""
        return cls(content=[f"chunk{i} " for i in range(after)], error=error, error_after=after, error_status=status)


def split_words(text: str) -> list[str]:
    """Split text into word chunks whose concatenation is the text: `"a b"` → `["a", " b"]`."""
    return _WORDS.findall(text) or ([text] if text else [])


def word_count(text: str) -> int:
    """The fake's token count: whitespace-separated words."""
    return len(text.split())


def new_call_id(rng: random.Random | None = None) -> str:
    """`call_` plus 8 random lower-case alphanumerics, as Ollama generates."""
    pick = rng or random
    return "call_" + "".join(pick.choice(_ID_ALPHABET) for _ in range(8))


def tool_call_objects(specs: list[ToolCallSpec]) -> list[dict[str, Any]]:
    """Ollama's ToolCall wire objects; `function.index` is always present."""
    out = []
    for i, spec in enumerate(specs):
        function = {"index": i if spec.index is None else spec.index, "name": spec.name, "arguments": spec.arguments}
        out.append({"id": spec.id or new_call_id(), "function": function})
    return out


def default_text(prompt: str) -> str:
    """The default answer: an echo of the last user input."""
    return f"You said: {prompt}"


def default_thinking_text(prompt: str) -> str:
    """The default reasoning of a thinking model."""
    return f"The user said: {prompt}. I will echo it."


def formatted_text(fmt: Any, text: str) -> str:
    """Default content under `format`: `{"answer": ...}` for "json", a schema instance for a schema object."""
    if isinstance(fmt, dict):
        return json.dumps(schema_instance(fmt, text, fmt))
    return json.dumps({"answer": text})


def schema_instance(schema: Any, text: str, root: dict[str, Any], depth: int = 0) -> Any:
    """A small value that satisfies common JSON-schema shapes (object, array, enum, const, scalars, $ref)."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return schema_instance(target, text, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema_instance(schema[key][0], text, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: schema_instance(sub, text, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [schema_instance(schema.get("items", {}), text, root, depth + 1) for _ in range(count)]
    scalars: dict[str, Any] = {"integer": max(1, word_count(text)), "number": 1.5, "boolean": True, "null": None}
    return scalars.get(kind, text)


def logprob_entries(token: str, position: int, top: int) -> list[dict[str, Any]]:
    """Deterministic logprobs for one chunk (`bytes` and `top_logprobs` omitted when empty)."""
    logprob = round(-0.05 * (1 + position % 7), 4)
    entry: dict[str, Any] = {"token": token, "logprob": logprob}
    if token:
        entry["bytes"] = list(token.encode())
    if top > 0:
        alternatives = [dict(entry)]
        for j in range(1, top):
            alt = f"alt{j}"
            alternatives.append({"token": alt, "logprob": round(logprob - j, 4), "bytes": list(alt.encode())})
        entry["top_logprobs"] = alternatives
    return [entry]
