"""`ollama-gateway models ...` against a real SQLite file and the fake Ollama."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ollama_gateway.cli.main import cli
from ollama_gateway.cli.models import catalog_changes
from ollama_gateway.storage import CatalogEntry, ModelRecord, Storage
from tests.fake_ollama.server import FakeOllama

OnStorage = Callable[[Callable[[Storage], Awaitable[Any]]], Any]


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(cli, ["models", *args], env=env)


def seed(on_storage: OnStorage) -> None:
    async def run(storage: Storage) -> None:
        await storage.models.sync_catalog(
            [
                CatalogEntry(name="llama3.2:latest", size=2_019_393_189, capabilities=("completion", "tools")),
                CatalogEntry(name="all-minilm:latest", size=45_960_996, capabilities=("embedding",)),
            ]
        )
        await storage.models.set("llama3.2:latest", display_name="fast", overrides={"temperature": 0.2})

    on_storage(run)


def stored(on_storage: OnStorage, name: str) -> ModelRecord:
    async def run(storage: Storage) -> ModelRecord | None:
        return await storage.models.get(name)

    record = on_storage(run)
    assert isinstance(record, ModelRecord)
    return record


def test_list_when_empty(runner: CliRunner) -> None:
    result = invoke(runner, "list")
    assert result.exit_code == 0, result.output
    assert "no models known yet" in result.output
    assert json.loads(invoke(runner, "list", "--json").stdout) == []


def test_list_table_and_json(runner: CliRunner, on_storage: OnStorage) -> None:
    seed(on_storage)
    table = invoke(runner, "list")
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "DISPLAY", "NAME"]
    assert rows[0].startswith("all-minilm:latest")
    assert "fast" in rows[1] and "completion,tools" in rows[1] and '{"temperature":0.2}' in rows[1]
    assert "2.0 GB" in rows[1] and "46.0 MB" in rows[0]

    listed = {m["name"]: m for m in json.loads(invoke(runner, "list", "--json").stdout)}
    llama = listed["llama3.2:latest"]
    assert llama["display_name"] == "fast" and llama["public_name"] == "fast"
    assert llama["enabled"] is True and llama["hidden"] is False
    assert llama["capabilities"] == ["completion", "tools"]
    assert llama["size"] == 2_019_393_189
    assert llama["overrides"] == {"temperature": 0.2}
    assert listed["all-minilm:latest"]["overrides"] == {}


def test_set_changes_only_what_is_given(runner: CliRunner, on_storage: OnStorage) -> None:
    seed(on_storage)
    result = invoke(runner, "set", "llama3.2:latest", "--disable", "--hide")
    assert result.exit_code == 0, result.output
    assert "Updated model llama3.2:latest" in result.stdout
    record = stored(on_storage, "llama3.2:latest")
    assert (record.enabled, record.hidden, record.display_name) == (False, True, "fast")
    assert record.overrides == {"temperature": 0.2}

    result = invoke(
        runner, "set", "llama3.2:latest", "--enable", "--show", "--overrides", '{"num_ctx": 8192, "think": "low"}'
    )
    assert result.exit_code == 0, result.output
    record = stored(on_storage, "llama3.2:latest")
    assert (record.enabled, record.hidden) == (True, False)
    assert record.overrides == {"num_ctx": 8192, "think": "low"}

    result = invoke(runner, "set", "llama3.2:latest", "--display-name", "", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["display_name"] is None
    assert stored(on_storage, "llama3.2:latest").display_name is None


def test_set_unknown_model_is_saved_with_a_note(runner: CliRunner, on_storage: OnStorage) -> None:
    result = invoke(runner, "set", "mistral", "--display-name", "m", "--hide")
    assert result.exit_code == 0, result.output
    assert "has not listed 'mistral'" in result.stderr
    record = stored(on_storage, "mistral")
    assert (record.display_name, record.present, record.hidden) == ("m", False, True)


def test_hide_without_display_name_warns(runner: CliRunner, on_storage: OnStorage) -> None:
    seed(on_storage)
    result = invoke(runner, "set", "all-minilm:latest", "--hide")
    assert result.exit_code == 0, result.output
    assert "once the model has a display name" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["temperature"]', "overrides must be a JSON object"),
        ('{"temperature": "hot"}', "temperature"),
        ('{"num_ctx": 1.5}', "num_ctx"),
        ('{"think": "very"}', "think must be"),
        ('{"timeout_ms": -5}', "timeout_ms must be a positive integer"),
        ('{"colour": "blue"}', "unknown override key: colour"),
    ],
)
def test_set_rejects_bad_overrides_cleanly(
    runner: CliRunner, on_storage: OnStorage, overrides: str, message: str
) -> None:
    seed(on_storage)
    result = invoke(runner, "set", "llama3.2:latest", "--overrides", overrides)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback
    assert "--overrides" in result.stderr and message in result.stderr
    assert stored(on_storage, "llama3.2:latest").overrides == {"temperature": 0.2}


def test_set_needs_a_change(runner: CliRunner) -> None:
    result = invoke(runner, "set", "llama3.2")
    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_set_duplicate_display_name_is_a_clean_error(runner: CliRunner, on_storage: OnStorage) -> None:
    seed(on_storage)
    result = invoke(runner, "set", "all-minilm:latest", "--display-name", "fast")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "already used by another model" in result.stderr


def test_refresh_from_fake_ollama(runner: CliRunner, on_storage: OnStorage, fake_ollama: FakeOllama) -> None:
    env = {"OLLAMA_URL": fake_ollama.url}
    first = invoke(runner, "refresh", env=env)
    assert first.exit_code == 0, first.output
    names = sorted(line.removeprefix("added: ") for line in first.stdout.splitlines() if line.startswith("added: "))
    assert names == sorted(entry.display for entry in fake_ollama.models.entries())
    assert f"{len(names)} added, 0 removed, 0 updated, 0 unchanged" in first.stdout
    assert set(stored(on_storage, "qwen3:latest").capabilities) == {"completion", "tools", "thinking"}

    again = invoke(runner, "refresh", env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == f"no changes ({len(names)} models)"

    fake_ollama.remove_model("llava")
    fake_ollama.add_model("phi3", ["completion"])
    third = invoke(runner, "refresh", env=env)
    assert third.exit_code == 0, third.output
    assert "added: phi3:latest" in third.stdout and "removed: llava:latest" in third.stdout
    assert stored(on_storage, "llava:latest").present is False


def test_refresh_keeps_operator_settings(runner: CliRunner, on_storage: OnStorage, fake_ollama: FakeOllama) -> None:
    seed(on_storage)
    result = invoke(runner, "refresh", env={"OLLAMA_URL": fake_ollama.url})
    assert result.exit_code == 0, result.output
    record = stored(on_storage, "llama3.2:latest")
    assert record.display_name == "fast" and record.overrides == {"temperature": 0.2}


def test_refresh_with_ollama_unreachable_is_a_clean_error(runner: CliRunner) -> None:
    result = invoke(runner, "refresh")  # the runner points OLLAMA_URL at a closed port
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "models not refreshed" in result.stderr and "cannot reach Ollama" in result.stderr
    assert "Traceback" not in result.output


def _record(name: str, *, present: bool = True, size: int | None = 1, when: datetime | None = None) -> ModelRecord:
    return ModelRecord(
        name=name,
        display_name=None,
        enabled=True,
        hidden=False,
        overrides={},
        capabilities=("completion",),
        size=size,
        details={},
        modified_at=when,
        last_seen_at=None,
        present=present,
    )


def test_catalog_changes() -> None:
    t1, t2 = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    before = [_record("a", when=t1), _record("b"), _record("c"), _record("gone-already", present=False)]
    after = [
        _record("a", when=t2),
        _record("b"),
        _record("c", present=False),
        _record("d"),
        _record("gone-already", present=False),
    ]
    changes = catalog_changes(before, after)
    assert (changes.added, changes.removed, changes.updated, changes.unchanged) == (["d"], ["c"], ["a"], 1)
    assert catalog_changes(after, after).empty
