"""Which Ollama the CLI talks to: the URL saved from the admin UI when there is one, else OLLAMA_URL."""

from __future__ import annotations

import click
import orjson

from ollama_gateway.admin.runtime_settings import RUNTIME_KEY, check_url
from ollama_gateway.errors import GatewayError
from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage
from ollama_gateway.upstream.client import OllamaClient


async def ollama_url(storage: Storage, settings: Settings) -> str:
    """The Ollama URL the running gateway uses: the admin UI's saved one wins over OLLAMA_URL, as in the server."""
    raw = await storage.kv.get(RUNTIME_KEY)
    if raw is not None:
        try:
            saved = orjson.loads(raw)
            if isinstance(saved, dict) and "ollama_url" in saved:
                url = check_url(saved["ollama_url"])
                click.echo(f"ollama: {url} (saved in the admin UI)", err=True)
                return url
        except (orjson.JSONDecodeError, GatewayError):
            pass
    click.echo(f"ollama: {settings.ollama_url}", err=True)
    return settings.ollama_url


async def open_client(storage: Storage, settings: Settings) -> OllamaClient:
    """A started client for the gateway's Ollama (close it when done)."""
    client = OllamaClient(await ollama_url(storage, settings), connect_timeout=settings.upstream_connect_timeout)
    await client.start()
    return client
