"""A fake Ollama server that follows the native API contract (reference/ollama-api.md §2.1-2.4, §2.7)."""

from .catalog import Catalog, ModelEntry, ModelName, parse_name
from .replies import Reply, ToolCallSpec
from .server import FakeOllama, build_app
from .state import LoadedModel, RecordedRequest

__all__ = [
    "Catalog",
    "FakeOllama",
    "LoadedModel",
    "ModelEntry",
    "ModelName",
    "RecordedRequest",
    "Reply",
    "ToolCallSpec",
    "build_app",
    "parse_name",
]
