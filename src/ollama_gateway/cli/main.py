"""The command group and `serve` / `migrate`."""

from __future__ import annotations

import asyncio
import os

import click

from ollama_gateway.cli.admin import admin
from ollama_gateway.cli.audit import audit
from ollama_gateway.cli.common import check_database, settings_or_exit
from ollama_gateway.cli.hosts import hosts
from ollama_gateway.cli.keys import keys
from ollama_gateway.cli.model_overrides import export_overrides, import_overrides
from ollama_gateway.cli.models import models
from ollama_gateway.cli.pull import delete as delete_model
from ollama_gateway.cli.pull import pull as pull_model
from ollama_gateway.cli.usage import usage
from ollama_gateway.logs import configure_logging
from ollama_gateway.storage import open_storage

PROG_NAME = "ollama-gateway"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ollama-gateway", prog_name=PROG_NAME)
@click.option(
    "--create-db",
    is_flag=True,
    envvar="GATEWAY_CREATE_DB",
    help="Create the SQLite database if it does not exist (by default a missing database is an error).",
)
def cli(create_db: bool) -> None:
    """ollama-gateway: Ollama behind the OpenAI and Anthropic APIs, with keys, usage and task status."""
    settings_or_exit()  # every command: a bad setting is one readable line and exit 2, never a traceback


@cli.command()
@click.option("--host", default=None, help="Interface to bind (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: PORT or 11535).")
@click.option(
    "--workers",
    default="1",
    show_default=True,
    help="Worker processes: a number, or `auto` for one per CPU core this process may use.",
)
def serve(host: str | None, port: int | None, workers: str) -> None:
    """Run the gateway."""
    settings = settings_or_exit()
    count = worker_count(workers)
    if count > 1 and settings.redis_connection_url() is None:
        # Each worker would hold its own embedded store, and a status poll landing on another worker 404s.
        raise click.UsageError(
            f"--workers {count} needs a shared task status store: the embedded store lives inside one process, "
            "so task status would be lost between workers. Set REDIS_URL (or REDIS_HOST), or run one worker."
        )
    if count < 1:
        raise click.UsageError("--workers must be at least 1")
    if host:
        os.environ["HOST"] = host
    if port:
        os.environ["PORT"] = str(port)
    configure_logging(settings.log_format, settings.log_level, server=True)
    from ollama_gateway.app import create_app
    from ollama_gateway.serving import serve as run_server

    run_server(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=count,
        app_factory=lambda: create_app(settings),
    )


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (the gateway also does this on start)."""

    settings = settings_or_exit()
    check_database(settings, create=True)

    async def run() -> None:
        storage = await open_storage(settings.sqlalchemy_url)
        await storage.close()

    asyncio.run(run())
    click.echo("database is up to date")


cli.add_command(keys)
cli.add_command(hosts)
models.add_command(pull_model)
models.add_command(delete_model)
models.add_command(export_overrides)
models.add_command(import_overrides)
cli.add_command(models)
cli.add_command(usage)
cli.add_command(admin)
cli.add_command(audit)


def main() -> None:
    """Console-script entry point."""
    cli(auto_envvar_prefix="OLLAMA_GATEWAY", prog_name=PROG_NAME)


def worker_count(value: str) -> int:
    """`--workers`: a number, or `auto` for the CPU cores this process may run on."""
    if value.strip().lower() == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        return int(value)
    except ValueError:
        raise click.UsageError(f"--workers must be a number or `auto`, not {value!r}") from None
