"""`ollama-gateway usage ...` against a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from ollama_gateway.cli.main import cli
from ollama_gateway.cli.usage import parse_duration, parse_moment
from ollama_gateway.storage import Storage, UsageRecord

OnStorage = Callable[[Callable[[Storage], Awaitable[Any]]], Any]

NOW = datetime.now(UTC).replace(microsecond=0)


def invoke(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(cli, ["usage", *args], env=env)


def record(
    age: timedelta, key: str | None, model: str, endpoint: str = "/v1/chat/completions", **extra: Any
) -> UsageRecord:
    values: dict[str, Any] = {"prompt_tokens": 10, "completion_tokens": 5, "status": 200, "latency_ms": 100, **extra}
    return UsageRecord(
        created_at=NOW - age,
        key_id=key,
        model_requested=model,
        model_upstream=f"{model}:latest",
        endpoint=endpoint,
        **values,
    )


RECORDS = [
    record(timedelta(minutes=5), "key_a", "llama3.2"),
    record(timedelta(minutes=30), "key_a", "llama3.2", status=429, prompt_tokens=0, completion_tokens=0),
    record(timedelta(hours=2), "key_b", "qwen3", stream=True, ttft_ms=40),
    record(timedelta(days=2), "key_a", "all-minilm", "/v1/embeddings", completion_tokens=0),
    record(timedelta(days=100), None, "llama3.2"),
]


@pytest.fixture
def seeded(on_storage: OnStorage) -> None:
    async def run(storage: Storage) -> None:
        await storage.usage.insert_many(RECORDS)

    on_storage(run)


def listed(runner: CliRunner, *args: str) -> list[dict[str, Any]]:
    result = invoke(runner, "--json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def ages(rows: list[dict[str, Any]]) -> list[timedelta]:
    return [NOW - datetime.fromisoformat(row["created_at"]) for row in rows]


def test_empty(runner: CliRunner) -> None:
    result = invoke(runner)
    assert result.exit_code == 0, result.output
    assert "no usage recorded" in result.stdout
    assert listed(runner) == []


@pytest.mark.usefixtures("seeded")
def test_lists_newest_first(runner: CliRunner) -> None:
    rows = listed(runner)
    assert ages(rows) == [NOW - r.created_at for r in RECORDS]
    assert rows[0]["key_id"] == "key_a" and rows[0]["prompt_tokens"] == 10 and rows[0]["id"] is not None


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--since", "1h"), [0, 1]),
        (("--since", "1d"), [0, 1, 2]),
        (("--since", "3d", "--until", "1h"), [2, 3]),
        (("--key", "key_a"), [0, 1, 3]),
        (("--model", "qwen3"), [2]),
        (("--model", "all-minilm:latest"), [3]),  # the upstream name matches too
        (("--endpoint", "/v1/embeddings"), [3]),
        (("--key", "key_a", "--since", "1d", "--model", "llama3.2"), [0, 1]),
        (("--limit", "2"), [0, 1]),
        (("--since", (NOW - timedelta(days=3)).date().isoformat()), [0, 1, 2, 3]),
        (("--until", (NOW - timedelta(days=50)).isoformat()), [4]),
    ],
)
def test_filters(runner: CliRunner, args: tuple[str, ...], expected: list[int]) -> None:
    assert ages(listed(runner, *args)) == [NOW - RECORDS[i].created_at for i in expected]


@pytest.mark.usefixtures("seeded")
def test_table_output(runner: CliRunner) -> None:
    result = invoke(runner, "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TIME (UTC)") and "STATUS" in lines[0]
    assert "key_b" in lines[3] and "qwen3" in lines[3] and "yes" in lines[3]
    assert "429" in lines[2]
    assert lines[-1] == "(3 of 5 records; raise --limit to see more)"


@pytest.mark.usefixtures("seeded")
def test_summary(runner: CliRunner) -> None:
    result = invoke(runner, "--summary", "--json", "--since", "7d")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_group = {(row["key_id"], row["model"], row["day"]): row for row in rows}
    today_a = by_group[("key_a", "llama3.2", RECORDS[0].created_at.date().isoformat())]
    if RECORDS[1].created_at.date() == RECORDS[0].created_at.date():  # not split by midnight UTC
        assert (today_a["requests"], today_a["errors"], today_a["total_tokens"]) == (2, 1, 15)
    old = by_group[("key_a", "all-minilm", RECORDS[3].created_at.date().isoformat())]
    assert (old["requests"], old["prompt_tokens"], old["completion_tokens"]) == (1, 10, 0)
    assert sum(row["requests"] for row in rows) == 4
    assert [row["day"] for row in rows] == sorted((row["day"] for row in rows), reverse=True)

    table = invoke(runner, "--summary", "--key", "key_b")
    assert table.exit_code == 0, table.output
    header, line = table.stdout.splitlines()
    assert header.split()[:4] == ["DAY", "KEY", "MODEL", "REQUESTS"]
    assert line.split()[1:5] == ["key_b", "qwen3", "1", "0"]

    assert "no usage recorded" in invoke(runner, "--summary", "--key", "nobody").stdout


@pytest.mark.usefixtures("seeded")
def test_prune_default_uses_retention(runner: CliRunner) -> None:
    result = invoke(runner, "prune")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("deleted 1 usage records from before")
    assert len(listed(runner)) == 4


@pytest.mark.usefixtures("seeded")
def test_prune_retention_from_settings_and_option(runner: CliRunner) -> None:
    result = invoke(runner, "prune", env={"USAGE_RETENTION_DAYS": "1"})
    assert result.exit_code == 0, result.output
    assert "deleted 2 usage records" in result.stdout
    result = invoke(runner, "prune", "--older-than", "1h")
    assert result.exit_code == 0, result.output
    assert "deleted 1 usage records" in result.stdout
    assert ages(listed(runner)) == [NOW - RECORDS[0].created_at, NOW - RECORDS[1].created_at]


@pytest.mark.parametrize(
    "args",
    [("--since", "yesterday"), ("--until", "5x"), ("--limit", "-1"), ("prune", "--older-than", "soon")],
)
def test_bad_arguments_are_usage_errors(runner: CliRunner, args: tuple[str, ...]) -> None:
    result = invoke(runner, *args)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Invalid value" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("7", None),
        ("d7", None),
        ("1.5h", None),
    ],
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def test_parse_moment() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_moment("1h", now) == datetime(2025, 6, 1, 11, 0, tzinfo=UTC)
    assert parse_moment("2025-05-01", now) == datetime(2025, 5, 1, tzinfo=UTC)
    assert parse_moment("2025-05-01T10:00:00+02:00", now) == datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(click.BadParameter):
        parse_moment("last week", now)
