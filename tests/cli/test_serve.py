"""`serve` refuses settings it cannot honour before starting anything."""

from __future__ import annotations

from click.testing import CliRunner

from ollama_gateway.cli.main import cli


def test_several_workers_with_the_embedded_task_store_are_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "2"], env={"REDIS_URL": None, "REDIS_HOST": None})
    assert result.exit_code == 2
    assert "--workers 2 needs a shared task status store" in result.output
    assert "REDIS_URL" in result.output


def test_zero_workers_are_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "at least 1" in result.output
