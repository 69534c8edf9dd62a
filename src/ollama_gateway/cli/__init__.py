"""The `ollama-gateway` command: serve, keys, models, usage, migrate."""

from __future__ import annotations

from ollama_gateway.cli.main import main

__all__ = ["main"]
