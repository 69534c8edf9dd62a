"""Which Ollama hosts the CLI talks to: the same as the server's (the admin UI's saved URL, OLLAMA_URLS, stored
hosts)."""

from __future__ import annotations

import click
import orjson

from ollama_gateway.admin.runtime_settings import RUNTIME_KEY, check_url
from ollama_gateway.errors import GatewayError
from ollama_gateway.service.hosts import wanted_hosts
from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage
from ollama_gateway.upstream.fleet import Fleet


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


async def open_fleet(storage: Storage, settings: Settings) -> Fleet:
    """A started fleet over the gateway's hosts (close it when done)."""
    settings = settings.model_copy(update={"ollama_url": await ollama_url(storage, settings)})
    fleet = Fleet(await wanted_hosts(settings, storage), settings)
    await fleet.start()
    return fleet
