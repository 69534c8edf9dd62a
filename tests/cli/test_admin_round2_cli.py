"""CLI of the admin's second round: usage --csv, models export/import, audit list, admin unlock."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner

from ollama_gateway.admin.throttle import LoginThrottle, ThrottleLimits
from ollama_gateway.cli.main import cli
from ollama_gateway.storage import Storage, UsageRecord

OnStorage = Callable[[Callable[[Storage], Awaitable[Any]]], Any]


def test_usage_csv_has_key_names(runner: CliRunner, on_storage: OnStorage) -> None:
    async def seed(storage: Storage) -> str:
        key, _ = await storage.keys.create("billing")
        record = UsageRecord(
            created_at=datetime.now(UTC),
            key_id=key.id,
            model_requested="qwen3",
            model_upstream="qwen3:latest",
            endpoint="/v1/chat/completions",
            status=200,
            prompt_tokens=3,
            completion_tokens=4,
            latency_ms=50,
        )
        await storage.usage.insert_many([record])
        return key.id

    key_id = on_storage(seed)
    result = runner.invoke(cli, ["usage", "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["key_id"], r["key_name"], r["model_requested"], r["prompt_tokens"]) for r in rows] == [
        (key_id, "billing", "qwen3", "3")
    ]


def test_models_export_and_import_round_trip(runner: CliRunner, on_storage: OnStorage, tmp_path: Any) -> None:
    async def seed(storage: Storage) -> None:
        await storage.models.set("qwen3:latest", display_name="house", overrides={"num_ctx": 4096})
        await storage.models.set("llama3.2:latest", overrides={"temperature": 0.1})

    on_storage(seed)
    exported = runner.invoke(cli, ["models", "export"])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout) == {"llama3.2:latest": {"temperature": 0.1}, "qwen3:latest": {"num_ctx": 4096}}

    document = {"house": {"think": "high", "num_ctx": 32768}}  # a display name as the key
    result = runner.invoke(cli, ["models", "import", "--replace", "-"], input=json.dumps(document))
    assert result.exit_code == 0, result.output
    assert "qwen3:latest" in result.output

    async def read(storage: Storage) -> dict[str, Any]:
        return {r.name: dict(r.overrides) for r in await storage.models.list()}

    assert on_storage(read) == {"qwen3:latest": {"think": "high", "num_ctx": 32768}, "llama3.2:latest": {}}


def test_models_import_is_all_or_nothing(runner: CliRunner, on_storage: OnStorage) -> None:
    async def seed(storage: Storage) -> None:
        await storage.models.set("qwen3:latest", overrides={"num_ctx": 4096})

    on_storage(seed)
    document = {"qwen3:latest": {"num_ctx": 8192}, "llama3.2": {"num_ctx": "big"}}
    result = runner.invoke(cli, ["models", "import", "-"], input=json.dumps(document))
    assert result.exit_code != 0
    assert "llama3.2" in result.output and "num_ctx" in result.output

    async def read(storage: Storage) -> dict[str, Any]:
        return {r.name: dict(r.overrides) for r in await storage.models.list()}

    assert on_storage(read) == {"qwen3:latest": {"num_ctx": 4096}}  # the valid half was not applied either
    bad_json = runner.invoke(cli, ["models", "import", "-"], input="{nope")
    assert bad_json.exit_code != 0 and "not valid JSON" in bad_json.output


def test_admin_unlock_clears_the_throttle_and_is_audited(runner: CliRunner, on_storage: OnStorage) -> None:
    limits = ThrottleLimits(per_address=1, overall=100, window_seconds=900)

    async def lock(storage: Storage) -> int:
        throttle = LoginThrottle(storage.login_attempts, limits)
        await throttle.attempt("192.0.2.1")
        return await throttle.attempt("192.0.2.1")

    assert on_storage(lock) > 0
    result = runner.invoke(cli, ["admin", "unlock"])
    assert result.exit_code == 0, result.output
    assert "login throttle cleared" in result.output

    async def again(storage: Storage) -> int:
        return await LoginThrottle(storage.login_attempts, limits).attempt("192.0.2.1")

    assert on_storage(again) == 0
    listed = runner.invoke(cli, ["audit", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)
    assert [(e["actor"], e["action"]) for e in entries] == [("cli", "login.unlock")]
    table = runner.invoke(cli, ["audit", "list", "--action", "login."])
    assert "login.unlock" in table.output and "cli" in table.output
    assert "login.unlock" not in runner.invoke(cli, ["audit", "list", "--action", "key."]).output
