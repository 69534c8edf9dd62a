"""Bad settings: one line naming the variable and what is wrong, exit status 2, no traceback (serve and CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "PORT", "DATABASE", "GATEWAY"))}
    return subprocess.run(
        [sys.executable, "-m", "ollama_gateway", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["serve"], {"PORT": "abc"}, "PORT: Input should be a valid integer"),
        (["serve"], {"PORT": "70000"}, "PORT: Input should be less than or equal to 65535"),
        (["serve"], {"OLLAMA_URL": "localhost:11434"}, "OLLAMA_URL: must be an http(s) URL"),
        (["keys", "list"], {"OLLAMA_URL": "http://127.0.0.1:port"}, "OLLAMA_URL: has a bad port"),
        (["models", "refresh"], {"LOG_FORMAT": "xml"}, "LOG_FORMAT: Input should be 'text' or 'json'"),
        (["migrate"], {"AUTH": "maybe"}, "AUTH: Input should be 'on' or 'off'"),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = run(tmp_path, *args, **env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ollama-gateway: error: ") and expected in lines[0]


def test_every_bad_variable_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=abc\n")
    result = run(tmp_path, "serve", OLLAMA_URL="ftp://x")
    assert result.returncode == 2
    assert sorted(line.split(": ")[2] for line in result.stderr.strip().splitlines()) == ["OLLAMA_URL", "PORT"]


def test_secrets_are_not_echoed(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", METRICS_TOKEN="", CHANGE_POLL_SECONDS="-1", ADMIN_PASSWORD="x" * 3)
    assert result.returncode == 2
    assert "CHANGE_POLL_SECONDS" in result.stderr and "xxx" not in result.stderr


def test_version_and_module_entry(tmp_path: Path) -> None:
    result = run(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.startswith("ollama-gateway, version ")


def test_credentials_in_a_bad_url_are_masked(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "list", OLLAMA_URL="http://user:hunter2@ollama:port")
    assert result.returncode == 2
    assert "hunter2" not in result.stderr and "http://***@ollama:port" in result.stderr
