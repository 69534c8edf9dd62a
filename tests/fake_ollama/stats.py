"""Request counts per path and per model, for fleet tests to see which host served what."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from .catalog import parse_name

MODEL_PATHS = frozenset({"/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show"})


class Stats:
    """Requests per path and per (path, model) since the last reset; kept even when recording is off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: Counter[str] = Counter()
        self._models: dict[str, Counter[str]] = {}

    def count(self, method: str, path: str, raw: bytes) -> None:
        """Count one arriving request (server side)."""
        model = _model_of(raw) if method == "POST" and path in MODEL_PATHS else None
        with self._lock:
            self._paths[path] += 1
            if model is not None:
                self._models.setdefault(path, Counter())[model] += 1

    def snapshot(self) -> dict[str, Any]:
        """Plain dicts of the counts."""
        with self._lock:
            return {"paths": dict(self._paths), "models": {p: dict(c) for p, c in self._models.items()}}

    def clear(self) -> None:
        """Forget every count."""
        with self._lock:
            self._paths.clear()
            self._models.clear()


def _model_of(raw: bytes) -> str | None:
    """The model a request body names, by its short name (`llama3.2` counts as `llama3.2:latest`)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    sent = body.get("model") or body.get("name") if isinstance(body, dict) else None
    if not isinstance(sent, str) or not sent:
        return None
    parsed = parse_name(sent)
    return parsed.short if parsed is not None else sent
