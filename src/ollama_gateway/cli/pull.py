"""`ollama-gateway models pull NAME` and `models delete NAME`: on the gateway's Ollama, then a catalog refresh."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn

from ollama_gateway.cli.common import settings_or_exit, with_storage
from ollama_gateway.cli.upstream import open_fleet
from ollama_gateway.errors import GatewayError
from ollama_gateway.service.catalog import ModelCatalog
from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage
from ollama_gateway.upstream.fleet import Fleet


class PullProgress:
    """One progress bar per layer digest, and a line per status without one ("pulling manifest", ...)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._bars: dict[str, TaskID] = {}
        self._last_status = ""

    def update(self, event: dict[str, Any]) -> None:
        """Show one progress object of Ollama's /api/pull stream."""
        status = str(event.get("status", ""))
        digest, total = event.get("digest"), event.get("total")
        if isinstance(digest, str) and isinstance(total, int) and total > 0:
            bar = self._bars.get(digest)
            if bar is None:
                bar = self._bars[digest] = self._progress.add_task(f"pulling {digest.removeprefix('sha256:')[:12]}")
            self._progress.update(bar, total=total, completed=int(event.get("completed") or 0))
        elif status and status != self._last_status:
            self._progress.console.print(status)
        self._last_status = status


async def refresh_catalog(fleet: Fleet, storage: Storage, settings: Settings) -> None:
    """Sync the catalog from Ollama, so the gateway (and its other replicas, within a second) see the change."""
    catalog = ModelCatalog(
        fleet,
        storage.models,
        reload_seconds=settings.models_cache_seconds,
        refresh_seconds=settings.catalog_refresh_seconds,
    )
    await catalog.reload()
    await catalog.refresh()


@click.command("pull")
@click.argument("name")
@click.option("--host", default=None, help="One host (id, name or URL); default: every enabled host.")
def pull(name: str, host: str | None) -> None:
    """Pull NAME into the gateway's Ollama hosts with a progress bar, then refresh the catalog."""
    settings = settings_or_exit()
    console = Console(stderr=True)

    async def run(storage: Storage) -> None:
        fleet = await open_fleet(storage, settings)
        try:
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, console=console, transient=False) as progress:
                shown = PullProgress(progress)
                labels = {c.id: c.label for c in fleet.configs}
                async for item in fleet.pull(name, host=host):
                    event = item.event
                    if "error" in event:
                        raise click.ClickException(
                            f"pull failed on {labels.get(item.host, item.host)}: {event['error']}"
                        )
                    shown.update(event)
            await refresh_catalog(fleet, storage, settings)
        except GatewayError as exc:
            raise click.ClickException(f"pull failed: {exc.message}") from exc
        finally:
            await fleet.close()

    with_storage(run)
    click.echo(f"Pulled {name}.")


@click.command("delete")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--host", default=None, help="One host (id, name or URL); default: every host that has it.")
def delete(name: str, yes: bool, host: str | None) -> None:
    """Delete NAME from the gateway's Ollama, then refresh the catalog (its settings are kept)."""
    settings = settings_or_exit()
    if not yes:
        click.confirm(f"Delete {name} from Ollama?", abort=True)

    async def run(storage: Storage) -> None:
        fleet = await open_fleet(storage, settings)
        try:
            await fleet.delete(name, host=host)
            await refresh_catalog(fleet, storage, settings)
        except GatewayError as exc:
            raise click.ClickException(f"delete failed: {exc.message}") from exc
        finally:
            await fleet.close()

    with_storage(run)
    click.echo(f"Deleted {name}.")
