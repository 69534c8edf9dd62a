"""Model names as Ollama parses them, and the fake's catalog of installed models."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .wire import rfc3339_nano

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
CAPABILITIES = ("completion", "tools", "insert", "vision", "embedding", "thinking", "image", "audio")
_LIMITS = {"host": 350, "namespace": 80, "model": 80, "tag": 80}


@dataclass(frozen=True)
class ModelName:
    """A parsed `[host/][namespace/]model[:tag]` with Ollama's defaults filled in."""

    host: str
    namespace: str
    model: str
    tag: str

    @property
    def full(self) -> str:
        """The internal name, e.g. `registry.ollama.ai/library/llama3.2:latest`."""
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def short(self) -> str:
        """DisplayShortest: the default host and namespace dropped, e.g. `llama3.2:latest`."""
        if self.host != DEFAULT_HOST:
            return self.full
        if self.namespace != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def key(self) -> str:
        """The lookup key: existing names match case-insensitively (getExistingName)."""
        return self.full.casefold()


def _valid_part(kind: str, part: str) -> bool:
    if not 1 <= len(part) <= _LIMITS[kind]:
        return False
    for i, ch in enumerate(part):
        alnum = ch.isascii() and (ch.isalnum() or ch == "_")
        if i == 0:
            if not alnum:
                return False
        elif ch in "_-":
            continue
        elif ch == ".":
            if kind == "namespace":
                return False
        elif ch == ":":
            if kind != "host":
                return False
        elif not alnum:
            return False
    return True


def parse_name(text: str) -> ModelName | None:
    """model.ParseName merged with the defaults; None when the result is not a valid name."""
    rest = text.split("@", 1)[0]
    tag = DEFAULT_TAG
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag = rest.rsplit(":", 1)
    parts = rest.split("/")
    if len(parts) > 3:
        parts = ["/".join(parts[:-2]), *parts[-2:]]
    model = parts[-1]
    namespace = parts[-2] if len(parts) >= 2 else DEFAULT_NAMESPACE
    host = parts[-3].split("://", 1)[-1] if len(parts) == 3 else DEFAULT_HOST
    name = ModelName(host, namespace, model, tag)
    valid = all(_valid_part(kind, getattr(name, kind)) for kind in ("host", "namespace", "model", "tag"))
    return name if valid else None


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass
class ModelEntry:
    """One installed model: what /api/tags, /api/show and /api/ps report, and what it can do."""

    name: ModelName
    capabilities: list[str]
    family: str = "llama"
    families: list[str] | None = None
    parameter_size: str = "3.2B"
    quantization_level: str = "Q4_K_M"
    size: int = 2_019_393_189
    context_length: int = 4096
    embedding_length: int = 3072
    parser: str = ""
    modified_ns: int = field(default_factory=time.time_ns)
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = _digest(self.name.full)

    @property
    def display(self) -> str:
        """The name /api/tags lists, e.g. `llama3.2:latest`."""
        return self.name.short

    def details(self) -> dict[str, Any]:
        """The `details` object (ModelDetails)."""
        out: dict[str, Any] = {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": self.families or [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }
        if self.context_length:
            out["context_length"] = self.context_length
        if self.embedding_length:
            out["embedding_length"] = self.embedding_length
        return out

    def tag_entry(self) -> dict[str, Any]:
        """One entry of /api/tags."""
        out: dict[str, Any] = {
            "name": self.display,
            "model": self.display,
            "modified_at": rfc3339_nano(self.modified_ns),
            "size": self.size,
            "digest": self.digest,
            "details": self.details(),
        }
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        return out


_BASE_NS = 1_750_000_000_123_456_789  # mid-2025; default models get distinct, stable timestamps


def default_entries() -> list[ModelEntry]:
    """The default catalog named in the brief: three chat models, a vision model and an embedding model."""
    specs: list[dict[str, Any]] = [
        dict(name="llama3.2", capabilities=["completion", "tools"], family="llama", parameter_size="3.2B",
             size=2_019_393_189, context_length=131_072, embedding_length=3072),
        dict(name="qwen3", capabilities=["completion", "tools", "thinking"], family="qwen3", parameter_size="8.2B",
             size=5_225_388_164, context_length=40_960, embedding_length=4096, parser="qwen3"),
        dict(name="gpt-oss:20b", capabilities=["completion", "tools", "thinking"], family="gptoss",
             parameter_size="20.9B", quantization_level="MXFP4", size=13_780_173_839, context_length=131_072,
             embedding_length=2880, parser="harmony"),
        dict(name="llava", capabilities=["completion", "vision"], family="llama", families=["llama", "clip"],
             parameter_size="7B", quantization_level="Q4_0", size=4_733_363_377, context_length=32_768,
             embedding_length=4096),
        dict(name="all-minilm", capabilities=["embedding"], family="bert", parameter_size="23M",
             quantization_level="F16", size=45_960_996, context_length=256, embedding_length=8),
    ]  # fmt: skip
    entries = []
    for i, spec in enumerate(specs):
        parsed = parse_name(spec.pop("name"))
        assert parsed is not None
        entries.append(ModelEntry(name=parsed, modified_ns=_BASE_NS - i * 86_400_000_000_000, **spec))
    return entries


class Catalog:
    """The installed models, safe to change from the test thread while the server reads it."""

    def __init__(self, entries: list[ModelEntry] | None = None) -> None:
        self._lock = threading.RLock()
        self._models: dict[str, ModelEntry] = {}
        for entry in entries if entries is not None else default_entries():
            self._models[entry.name.key] = entry

    def get(self, name: str | ModelName) -> ModelEntry | None:
        """The entry for `name` (`llama3.2` ≡ `llama3.2:latest`, case-insensitive), or None."""
        parsed = parse_name(name) if isinstance(name, str) else name
        if parsed is None:
            return None
        with self._lock:
            return self._models.get(parsed.key)

    def add(self, name: str, capabilities: list[str] | None = None, **details: Any) -> ModelEntry:
        """Install (or replace) a model; `details` are ModelEntry fields such as family, size, context_length."""
        parsed = parse_name(name)
        if parsed is None:
            raise ValueError(f"invalid model name: {name!r}")
        unknown = set(capabilities or ()) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"unknown capabilities: {sorted(unknown)}")
        entry = ModelEntry(name=parsed, capabilities=list(capabilities or ["completion"]), **details)
        with self._lock:
            self._models[parsed.key] = entry
        return entry

    def remove(self, name: str | ModelName) -> bool:
        """Uninstall a model; False when it was not installed."""
        parsed = parse_name(name) if isinstance(name, str) else name
        if parsed is None:
            return False
        with self._lock:
            return self._models.pop(parsed.key, None) is not None

    def entries(self) -> list[ModelEntry]:
        """All entries, newest first (the order /api/tags uses)."""
        with self._lock:
            return sorted(self._models.values(), key=lambda e: e.modified_ns, reverse=True)

    def names(self) -> list[str]:
        """Display names, newest first."""
        return [entry.display for entry in self.entries()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str | ModelName) and self.get(name) is not None

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)
