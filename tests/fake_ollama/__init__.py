"""A fake Ollama server that follows the native API contract (reference/ollama-api.md §2.1-2.4, §2.7).

    fake = FakeOllama().start()            # or the `fake_ollama` fixture (tests.fake_ollama.fixtures)
    fake.script(Reply(content=["Hel", "lo"], prompt_eval_count=7))
    ...                                    # point the code under test at fake.url
    assert fake.last("/api/chat").body["stream"] is True
    fake.stop()

As a process, for benchmarks: `python -m tests.fake_ollama --port 0 --tokens 50 --chunk-delay-ms 5`.
"""

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
