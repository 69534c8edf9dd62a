"""Storage test fixtures: the shared PostgreSQL/SQLite ones, plus an opened `Storage` per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ollama_gateway.storage import Storage, open_storage

SUPPORT_PLUGIN = "tests.support.postgres"


def pytest_configure(config: pytest.Config) -> None:
    # tests/conftest.py may already list the plugin in pytest_plugins; registering it twice would
    # start two servers, so only load it here when nobody else has.
    if not config.pluginmanager.has_plugin(SUPPORT_PLUGIN):
        config.pluginmanager.import_plugin(SUPPORT_PLUGIN)


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    """A migrated, empty storage on the parametrised engine, closed after the test."""
    opened = await open_storage(storage_url)
    try:
        yield opened
    finally:
        await opened.close()
