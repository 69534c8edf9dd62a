"""Fixtures for the fake's own tests (the plugin is loaded here unless the root conftest already registers it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import ollama
import pytest

from .server import FakeOllama

PLUGIN = "tests.fake_ollama.fixtures"


def pytest_configure(config: pytest.Config) -> None:
    """Load the fixtures plugin when tests/conftest.py does not list it in pytest_plugins."""
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
def http(fake_ollama: FakeOllama) -> Iterator[httpx.Client]:
    """A plain httpx client aimed at the fake."""
    with httpx.Client(base_url=fake_ollama.url, timeout=10) as client:
        yield client


@pytest.fixture
def sdk(fake_ollama: FakeOllama) -> Iterator[ollama.Client]:
    """The official Ollama SDK, synchronous."""
    with ollama.Client(host=fake_ollama.url) as client:
        yield client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp client session, closed after the test."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        yield client
