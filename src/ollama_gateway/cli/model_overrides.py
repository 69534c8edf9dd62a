"""`ollama-gateway models export` / `models import`: every model's overrides as one JSON document."""

from __future__ import annotations

import json
from typing import IO, Any

import click

from ollama_gateway.admin.override_map import ImportResult, export_map, import_map
from ollama_gateway.cli.common import with_storage
from ollama_gateway.storage import Storage


@click.command("export")
@click.option("--output", "-o", type=click.File("w"), default="-", help="Write here (default: standard output).")
def export_overrides(output: IO[str]) -> None:
    """Print `{model: overrides}` for every model with overrides (the Ollama2OpenAI format)."""

    async def run(storage: Storage) -> dict[str, dict[str, Any]]:
        return export_map(await storage.models.list())

    output.write(json.dumps(with_storage(run), indent=2, sort_keys=True) + "\n")


@click.command("import")
@click.argument("source", type=click.File("r"), default="-")
@click.option("--replace", is_flag=True, help="Clear the overrides of every model not in the document.")
def import_overrides(source: IO[str], replace: bool) -> None:
    """Apply an overrides document (a file, or - for standard input): checked whole, then applied atomically."""
    try:
        document = json.load(source)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the document is not valid JSON: {exc.msg} (line {exc.lineno})") from exc

    async def run(storage: Storage) -> ImportResult:
        result = await import_map(storage.models, document, replace=replace)
        detail = {"models": sorted(result.applied), "replace": replace}
        await storage.audit.record("cli", "model.overrides_import", None, detail)
        return result

    result = with_storage(run)
    names = ", ".join(sorted(result.applied)) or "no models"
    click.echo(f"overrides set for {names}" + ("; every other model's overrides cleared" if replace else ""))
