"""Client-side helpers for reading what the fake (or a real Ollama) sent."""

from __future__ import annotations

import json
import re
from typing import Any

CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def ndjson(body: bytes | str) -> list[dict[str, Any]]:
    """Split an NDJSON body into objects, insisting on Ollama's framing: one compact object per `\\n` line."""
    text = body.decode() if isinstance(body, bytes) else body
    assert text.endswith("\n"), "every NDJSON line ends with a newline"
    objects = []
    for line in text[:-1].split("\n"):
        obj = json.loads(line)
        assert line == json.dumps(obj, separators=(",", ":"), ensure_ascii=False), f"not compact: {line!r}"
        objects.append(obj)
    return objects
