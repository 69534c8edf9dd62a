"""USAGE_DURABILITY=sync: a response completes only once its usage row is in the database (batch: up to a flush)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import ollama
import openai
import pytest

from ollama_gateway.storage import UsageRecord, open_storage
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]


def _rows_in_database(server: GatewayServer) -> list[UsageRecord]:
    """Rows read through a separate connection, without flushing the gateway's buffer."""

    async def read() -> list[UsageRecord]:
        storage = await open_storage(server.settings.sqlalchemy_url, migrate=False)
        try:
            return await storage.usage.query(limit=100)
        finally:
            await storage.close()

    return asyncio.run(read())


def _requests(server: GatewayServer) -> None:
    key = server.create_key()
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as sdk:
        sdk.chat.completions.create(model="llama3.2", messages=USER)  # type: ignore[arg-type]
        list(sdk.chat.completions.create(model="llama3.2", messages=USER, stream=True))  # type: ignore[arg-type]
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="missing", messages=USER)  # type: ignore[arg-type]
    # Ollama's native API, relayed byte for byte, streamed (Ollama's default) and not.
    native = ollama.Client(host=server.url, headers={"Authorization": f"Bearer {key}"})
    try:
        list(native.chat(model="llama3.2", messages=USER, stream=True))
        native.chat(model="llama3.2", messages=USER)
    finally:
        native._client.close()


def test_sync_durability_writes_each_row_before_the_response_completes(
    start_gateway: Callable[..., GatewayServer],
) -> None:
    server = start_gateway(usage_durability="sync", usage_flush_seconds=3600)
    _requests(server)
    rows = _rows_in_database(server)
    assert sorted((r.endpoint, r.status, r.stream) for r in rows) == [
        ("/api/chat", 200, False),
        ("/api/chat", 200, True),
        ("/v1/chat/completions", 200, False),
        ("/v1/chat/completions", 200, True),
        ("/v1/chat/completions", 404, False),
    ]


def test_batch_durability_leaves_rows_buffered_until_the_flush(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(usage_durability="batch", usage_flush_seconds=3600)
    _requests(server)
    assert _rows_in_database(server) == []  # what a SIGKILL now would lose
    assert server.gateway.usage.pending == 5
