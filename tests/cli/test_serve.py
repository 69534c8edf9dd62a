"""`serve` refuses settings it cannot honour before starting anything."""

from __future__ import annotations

import os

from click.testing import CliRunner

from ollama_gateway.cli.main import cli, worker_count


def test_several_workers_with_the_embedded_task_store_are_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "2"], env={"REDIS_URL": None, "REDIS_HOST": None})
    assert result.exit_code == 2
    assert "--workers 2 needs a shared task status store" in result.output
    assert "REDIS_URL" in result.output


def test_zero_workers_are_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "at least 1" in result.output


def test_workers_auto_is_one_per_usable_core(runner: CliRunner) -> None:
    cores = len(os.sched_getaffinity(0))
    assert worker_count("auto") == cores == worker_count("AUTO")
    assert worker_count("3") == 3
    if cores > 1:  # `auto` means several workers here, which needs Redis like any other count
        result = runner.invoke(cli, ["serve", "--workers", "auto"], env={"REDIS_URL": None, "REDIS_HOST": None})
        assert result.exit_code == 2
        assert f"--workers {cores} needs a shared task status store" in result.output


def test_workers_must_be_a_number_or_auto(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "many"])
    assert result.exit_code == 2
    assert "a number or `auto`" in result.output
