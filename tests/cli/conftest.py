"""CLI test fixtures: a CliRunner whose DATABASE_URL points at a fresh SQLite file, and a way to seed it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ollama_gateway.storage import Storage, open_storage


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite URL under tmp_path; the working directory moves there too, so no stray `.env` is read."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{(tmp_path / 'data' / 'gateway.db').as_posix()}"


@pytest.fixture
def runner(database_url: str) -> CliRunner:
    """A CliRunner with DATABASE_URL set and Ollama pointed at a closed port unless a test says otherwise."""
    env = {
        "DATABASE_URL": database_url,
        "OLLAMA_URL": "http://127.0.0.1:9",
        "GATEWAY_DATA_DIR": ".",
        "GATEWAY_CREATE_DB": "1",
    }
    return CliRunner(env=env)


@pytest.fixture
def on_storage(database_url: str) -> Callable[[Callable[[Storage], Awaitable[object]]], object]:
    """Run a coroutine against the test database (opened, migrated, closed) from a synchronous test."""

    def run(action: Callable[[Storage], Awaitable[object]]) -> object:
        async def go() -> object:
            storage = await open_storage(database_url)
            try:
                return await action(storage)
            finally:
                await storage.close()

        return asyncio.run(go())

    return run
