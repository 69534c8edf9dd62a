"""`models pull` / `models delete` on the gateway's Ollama, the admin UI's saved URL, and which database is used."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from ollama_gateway.admin.runtime_settings import RUNTIME_KEY
from ollama_gateway.cli.main import cli
from ollama_gateway.storage import Storage
from tests.fake_ollama.server import FakeOllama

OnStorage = Callable[[Callable[[Storage], Awaitable[Any]]], Any]


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return runner.invoke(cli, list(args), env=env, input=stdin)


def names(on_storage: OnStorage) -> set[str]:
    async def run(storage: Storage) -> set[str]:
        return {r.name for r in await storage.models.list() if r.present}

    result: set[str] = on_storage(run)
    return result


def test_pull_shows_progress_and_refreshes_the_catalog(
    runner: CliRunner, on_storage: OnStorage, fake_ollama: FakeOllama
) -> None:
    result = invoke(runner, "models", "pull", "tinyllama", env={"OLLAMA_URL": fake_ollama.url})
    assert result.exit_code == 0, result.output
    assert "pulling manifest" in result.stderr and "pulling " in result.stderr
    assert "Pulled tinyllama." in result.stdout
    assert fake_ollama.last("/api/pull").body == {"model": "tinyllama", "stream": True}
    assert "tinyllama:latest" in names(on_storage)


def test_pull_of_an_unknown_model_fails_cleanly(runner: CliRunner, fake_ollama: FakeOllama) -> None:
    result = invoke(runner, "models", "pull", "no-such-model", env={"OLLAMA_URL": fake_ollama.url})
    assert result.exit_code == 1
    assert "pull failed" in result.stderr and "file does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_delete_asks_then_removes(runner: CliRunner, on_storage: OnStorage, fake_ollama: FakeOllama) -> None:
    env = {"OLLAMA_URL": fake_ollama.url}
    assert invoke(runner, "models", "refresh", env=env).exit_code == 0
    declined = invoke(runner, "models", "delete", "llava", env=env, stdin="n\n")
    assert declined.exit_code == 1 and "llava" in fake_ollama.models
    result = invoke(runner, "models", "delete", "llava", "--yes", env=env)
    assert result.exit_code == 0, result.output
    assert "llava" not in fake_ollama.models and "llava:latest" not in names(on_storage)
    missing = invoke(runner, "models", "delete", "llava", "--yes", env=env)
    assert missing.exit_code == 1 and "delete failed" in missing.stderr and "not found" in missing.stderr


def test_the_admin_ui_saved_url_wins_over_ollama_url(
    runner: CliRunner, on_storage: OnStorage, fake_ollama: FakeOllama
) -> None:
    async def save(storage: Storage) -> None:
        await storage.kv.set(RUNTIME_KEY, orjson.dumps({"ollama_url": fake_ollama.url}).decode())

    on_storage(save)
    result = invoke(runner, "models", "refresh")  # OLLAMA_URL points at a closed port
    assert result.exit_code == 0, result.output
    assert f"ollama: {fake_ollama.url} (saved in the admin UI)" in result.stderr
    assert "llama3.2:latest" in names(on_storage)


def test_a_missing_database_is_not_created_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner(env={"DATABASE_URL": None, "GATEWAY_DATA_DIR": None, "GATEWAY_CREATE_DB": None})
    result = runner.invoke(cli, ["keys", "list"])
    expected = (elsewhere / "data" / "gateway.db").resolve()
    assert result.exit_code == 1
    assert f"database: {expected}" in result.stderr and "no database at" in result.stderr
    assert not expected.exists()

    created = runner.invoke(cli, ["--create-db", "keys", "list"])
    assert created.exit_code == 0, created.output
    assert expected.exists()
    again = runner.invoke(cli, ["keys", "list"])
    assert again.exit_code == 0 and f"database: {expected}" in again.stderr


def test_the_cli_reads_dotenv_like_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"GATEWAY_DATA_DIR={tmp_path / 'state'}\n")
    runner = CliRunner(env={"DATABASE_URL": None, "GATEWAY_DATA_DIR": None, "GATEWAY_CREATE_DB": None})
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    result = runner.invoke(cli, ["keys", "list"])
    assert result.exit_code == 0 and f"database: {(tmp_path / 'state' / 'gateway.db').resolve()}" in result.stderr
