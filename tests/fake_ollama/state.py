"""The fake's mutable state, shared between the test thread and the server thread: recordings, scripts, models."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, ModelEntry, parse_name
from .errors import SERVER_BUSY, OllamaError, missing_capability, no_completion
from .replies import Reply
from .requests import keep_alive_seconds, option_int, validate_options
from .stats import Stats
from .wire import MAX_DURATION_NS

Behaviour = Callable[[str, dict[str, Any]], Reply | None]
"""A reply chosen from the request itself (e.g. `agent.CallToolThenAnswer`), for multi-turn clients."""

DEFAULT_VERSION = "0.33.0-rc2"
DEFAULT_KEEP_ALIVE_S = 300.0
DEFAULT_NUM_CTX = 4096


def default_pullable() -> dict[str, list[int]]:
    """Models /api/pull can "download" besides the installed ones: name -> layer sizes in bytes."""
    return {
        "tinyllama": [637_699_456, 98, 31, 483],
        "smollm2:135m": [270_898_560, 1_386, 11_357, 419],
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; `body` is the parsed JSON (None when absent or not JSON)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass
class LoadedModel:
    """A model "in memory", as /api/ps reports it."""

    entry: ModelEntry
    expires_ns: int
    context_length: int


@dataclass
class _Script:
    reply: Reply
    model_key: str | None
    path: str | None


class FakeState:
    """Recordings, scripted replies, the catalog and the settings a test can change between requests."""

    def __init__(self, *, record: bool = True) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.record = record
        self._requests: list[RecordedRequest] = []
        self._disconnects: list[RecordedRequest] = []
        self._scripts: list[_Script] = []
        self._loaded: dict[str, LoadedModel] = {}
        self._pull_models: dict[str, dict[str, Any]] = {}
        self.epoch = 0
        self.models = Catalog()
        self.pullable: dict[str, list[int]] = default_pullable()
        self.pull_step_delay = 0.0
        self.version = DEFAULT_VERSION
        self.default_tokens: int | None = None
        self.default_chunk_delay = 0.0
        # for fleet tests (control.py): the host's name (X-Fake-Host), the busy switch, counts that survive record=False
        self.name: str | None = None
        self.busy = False
        self.stats = Stats()
        # Consulted when no scripted reply matches: (path, body) -> a Reply, or None for the default reply.
        self.behaviour: Behaviour | None = None

    # -- recordings ---------------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def disconnects(self) -> list[RecordedRequest]:
        """Requests whose client went away (or that were cancelled) before the fake finished answering."""
        with self._lock:
            return list(self._disconnects)

    def last(self, path: str | None = None) -> RecordedRequest:
        """The most recent request (to `path`, when given); LookupError when there is none."""
        with self._lock:
            for req in reversed(self._requests):
                if path is None or req.path == path:
                    return req
        raise LookupError(f"no request to {path or 'any path'} was recorded")

    def bodies(self, path: str) -> list[Any]:
        """The parsed bodies of every request to `path`, in order."""
        return [req.body for req in self.requests if req.path == path]

    def note_request(self, request: RecordedRequest) -> None:
        """Record an arriving request (server side)."""
        with self._changed:
            if self.record:
                self._requests.append(request)
            self._changed.notify_all()

    def note_disconnect(self, request: RecordedRequest) -> None:
        """Record that the client of `request` disconnected (server side)."""
        with self._changed:
            self._disconnects.append(request)
            self._changed.notify_all()

    def wait_for_requests(self, count: int = 1, path: str | None = None, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` requests (to `path`) have arrived; TimeoutError otherwise."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self._requests if path is None or r.path == path]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"expected {count} request(s) to {path or 'any path'}, got {len(matching())}")
            return matching()

    def wait_disconnect_sync(self, timeout: float = 5.0, count: int = 1) -> RecordedRequest:
        """Block until `count` disconnects have been seen; returns the latest."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._disconnects) >= count, timeout):
                raise TimeoutError(f"expected {count} disconnect(s), saw {len(self._disconnects)}")
            return self._disconnects[-1]

    async def wait_disconnect(self, timeout: float = 5.0, count: int = 1) -> RecordedRequest:
        """Wait (without blocking the caller's event loop) until `count` disconnects have been seen."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self._disconnects) >= count:
                    return self._disconnects[-1]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {count} disconnect(s), saw {len(self._disconnects)}")
            await asyncio.sleep(0.005)

    # -- scripting ----------------------------------------------------------------------------------------------
    def script(self, *replies: Reply, model: str | None = None, path: str | None = None) -> None:
        """Queue replies for the next chat/generate requests (only for `model` / `path` when given)."""
        key = None
        if model is not None:
            parsed = parse_name(model)
            if parsed is None:
                raise ValueError(f"invalid model name: {model!r}")
            key = parsed.key
        with self._lock:
            self._scripts.extend(_Script(reply, key, path) for reply in replies)

    def take_script(self, path: str, model_key: str) -> Reply | None:
        """Pop the first queued reply that matches this request (server side)."""
        with self._lock:
            for i, item in enumerate(self._scripts):
                if item.model_key in (None, model_key) and item.path in (None, path):
                    return self._scripts.pop(i).reply
        return None

    def reply_for(self, path: str, model_key: str, body: dict[str, Any]) -> Reply | None:
        """The scripted reply for this request, else what the behaviour (if any) answers (server side)."""
        reply = self.take_script(path, model_key)
        if reply is None and self.behaviour is not None:
            reply = self.behaviour(path, body)
        return reply

    @property
    def pending_scripts(self) -> int:
        """How many scripted replies have not been used yet."""
        with self._lock:
            return len(self._scripts)

    # -- models -------------------------------------------------------------------------------------------------
    def add_model(self, name: str, capabilities: list[str] | None = None, **details: Any) -> ModelEntry:
        """Install a model (see Catalog.add)."""
        return self.models.add(name, capabilities, **details)

    def remove_model(self, name: str) -> bool:
        """Uninstall a model; it also leaves /api/ps."""
        parsed = parse_name(name)
        if parsed is not None:
            with self._lock:
                self._loaded.pop(parsed.key, None)
        return self.models.remove(name)

    def add_pullable(self, name: str, layers: list[int], **model: Any) -> None:
        """Let /api/pull "download" `name` with these layer sizes; `model` are add_model arguments for afterwards."""
        with self._lock:
            self.pullable[name] = list(layers)
            self._pull_models[name] = dict(model)

    def pull_spec(self, name: str) -> tuple[list[int], dict[str, Any]] | None:
        """Layer sizes and model arguments for pulling `name`: a pullable entry, else an installed model."""
        parsed = parse_name(name)
        if parsed is None:
            return None
        with self._lock:
            for candidate, layers in self.pullable.items():
                other = parse_name(candidate)
                if other is not None and other.key == parsed.key:
                    return list(layers), dict(self._pull_models.get(candidate, {}))
        entry = self.models.get(parsed)
        return ([entry.size], {}) if entry is not None else None

    def schedule(self, entry: ModelEntry, sent: str, caps: list[str], verb: str, body: dict[str, Any]) -> None:
        """scheduleRunner: capability check (400), option types (500), then the model counts as loaded."""
        for cap in caps:
            if cap not in entry.capabilities:
                if cap == "completion":
                    raise OllamaError(400, no_completion(sent, verb))
                raise OllamaError(400, missing_capability(entry.name.full, cap))
        validate_options(body.get("options"))
        if self.busy:  # the scheduler's pending queue is full
            raise OllamaError(503, SERVER_BUSY)
        self.mark_loaded(entry, body)

    def mark_loaded(self, entry: ModelEntry, body: dict[str, Any]) -> None:
        """Put `entry` in /api/ps with the request's keep_alive and num_ctx."""
        keep = keep_alive_seconds(body)
        keep = DEFAULT_KEEP_ALIVE_S if keep is None else keep
        now = time.time_ns()
        expires = now + MAX_DURATION_NS if keep < 0 else now + int(keep * 1e9)
        ctx = option_int(body, "num_ctx") or DEFAULT_NUM_CTX
        with self._lock:
            self._loaded[entry.name.key] = LoadedModel(entry, expires, ctx)

    def unload(self, entry: ModelEntry) -> None:
        """Drop `entry` from /api/ps (keep_alive 0)."""
        with self._lock:
            self._loaded.pop(entry.name.key, None)

    def loaded(self) -> list[LoadedModel]:
        """Loaded models, the longest time left first."""
        with self._lock:
            return sorted(self._loaded.values(), key=lambda m: m.expires_ns, reverse=True)

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget recordings, scripts and counts, restore the default catalog and settings; abandon held streams."""
        with self._changed:
            self.epoch += 1
            self._requests.clear()
            self._disconnects.clear()
            self._scripts.clear()
            self._loaded.clear()
            self._pull_models.clear()
            self.models = Catalog()
            self.pullable = default_pullable()
            self.pull_step_delay = 0.0
            self.version = DEFAULT_VERSION
            self.default_tokens = None
            self.default_chunk_delay = 0.0
            self.busy = False
            self.stats.clear()
            self.behaviour = None
            self._changed.notify_all()
