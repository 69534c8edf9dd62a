"""Fixtures shared by every test folder: the fake Ollama, a real gateway, PostgreSQL and Redis servers."""

from __future__ import annotations

pytest_plugins = [
    "tests.fake_ollama.fixtures",
    "tests.support.fleet",
    "tests.support.gateway",
    "tests.support.postgres",
    "tests.support.redis",
]
