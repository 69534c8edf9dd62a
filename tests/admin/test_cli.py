"""`ollama-gateway admin set-password`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from ollama_gateway.admin.passwords import PASSWORD_KEY, verify_password
from ollama_gateway.cli.main import cli
from ollama_gateway.storage import open_storage


def stored_hash(url: str) -> str | None:
    async def read() -> str | None:
        storage = await open_storage(url)
        try:
            return await storage.kv.get(PASSWORD_KEY)
        finally:
            await storage.close()

    return asyncio.run(read())


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GATEWAY_CREATE_DB", "1")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    return url


def test_set_password_prompts_twice(database: str) -> None:
    result = CliRunner().invoke(cli, ["admin", "set-password"], input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    stored = stored_hash(database)
    assert stored and stored.startswith("$argon2id$")
    assert asyncio.run(verify_password(stored, "a-long-password"))


def test_set_password_from_stdin(database: str) -> None:
    result = CliRunner().invoke(cli, ["admin", "set-password", "--password-stdin"], input="from-stdin-123\n")
    assert result.exit_code == 0, result.output
    assert asyncio.run(verify_password(stored_hash(database), "from-stdin-123"))


def test_short_password_is_refused(database: str) -> None:
    result = CliRunner().invoke(cli, ["admin", "set-password", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 8" in result.output
