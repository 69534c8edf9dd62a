"""Pytest fixtures for the fake Ollama. Register them with `pytest_plugins = ["tests.fake_ollama.fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeOllama


@pytest.fixture(scope="session")
def fake_ollama_server() -> Iterator[FakeOllama]:
    """One fake Ollama for the whole session, on an ephemeral loopback port."""
    fake = FakeOllama().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_ollama(fake_ollama_server: FakeOllama) -> Iterator[FakeOllama]:
    """The session's fake Ollama, reset (recordings, scripts, catalog, settings) for this test."""
    fake_ollama_server.reset()
    yield fake_ollama_server
    fake_ollama_server.reset()
