"""The command group and `serve` / `migrate`."""

from __future__ import annotations

import asyncio
import os

import click

from ollama_gateway.cli.admin import admin
from ollama_gateway.cli.audit import audit
from ollama_gateway.cli.keys import keys
from ollama_gateway.cli.model_overrides import export_overrides, import_overrides
from ollama_gateway.cli.models import models
from ollama_gateway.cli.usage import usage
from ollama_gateway.settings import load_settings
from ollama_gateway.storage import open_storage


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ollama-gateway")
def cli() -> None:
    """ollama-gateway: Ollama behind the OpenAI and Anthropic APIs, with keys, usage and task status."""


@cli.command()
@click.option("--host", default=None, help="Interface to bind (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: PORT or 11535).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Run the gateway."""
    import uvicorn

    settings = load_settings()
    if host:
        os.environ["HOST"] = host
    if port:
        os.environ["PORT"] = str(port)
    uvicorn.run(
        "ollama_gateway.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        loop="auto",
        http="auto",
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        proxy_headers=False,  # X-Forwarded-For is honoured only from TRUSTED_PROXIES, by the app itself
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (the gateway also does this on start)."""

    async def run() -> None:
        storage = await open_storage(load_settings().sqlalchemy_url)
        await storage.close()

    asyncio.run(run())
    click.echo("database is up to date")


cli.add_command(keys)
models.add_command(export_overrides)
models.add_command(import_overrides)
cli.add_command(models)
cli.add_command(usage)
cli.add_command(admin)
cli.add_command(audit)


def main() -> None:
    """Console-script entry point."""
    cli(auto_envvar_prefix="OLLAMA_GATEWAY")
