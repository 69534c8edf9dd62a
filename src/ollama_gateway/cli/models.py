"""`ollama-gateway models ...`: list the catalog, refresh it from Ollama, and change a model's settings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from ollama_gateway.cli.common import echo_json, echo_table, plain, settings_or_exit, with_storage
from ollama_gateway.cli.upstream import open_fleet
from ollama_gateway.errors import GatewayError
from ollama_gateway.policy.overrides import validate_overrides
from ollama_gateway.service.catalog import ModelCatalog
from ollama_gateway.storage import ModelRecord, Storage


@dataclass(slots=True)
class CatalogChanges:
    """What a refresh changed: models that appeared, went away, or changed size or version."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (self.added or self.removed or self.updated)


def catalog_changes(before: Sequence[ModelRecord], after: Sequence[ModelRecord]) -> CatalogChanges:
    """Compare the catalog before and after a refresh."""
    old = {record.name: record for record in before if record.present}
    changes = CatalogChanges()
    for record in after:
        if not record.present:
            continue
        previous = old.pop(record.name, None)
        if previous is None:
            changes.added.append(record.name)
        elif (previous.size, previous.modified_at, previous.capabilities) != (
            record.size,
            record.modified_at,
            record.capabilities,
        ):
            changes.updated.append(record.name)
        else:
            changes.unchanged += 1
    changes.removed.extend(sorted(old))
    return changes


def _size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def _model_json(record: ModelRecord) -> dict[str, Any]:
    return {**plain(record), "public_name": record.public_name}


@click.group()
def models() -> None:
    """Inspect the model catalog and set display names, visibility and overrides."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_models(as_json: bool) -> None:
    """List every known model with the operator's settings."""

    async def run(storage: Storage) -> list[ModelRecord]:
        return await storage.models.list()

    records = with_storage(run)
    if as_json:
        echo_json([_model_json(record) for record in records])
        return
    if not records:
        click.echo("no models known yet; run `ollama-gateway models refresh`")
        return
    echo_table(
        [
            (
                r.name,
                r.display_name or "",
                "yes" if r.enabled else "no",
                "yes" if r.hidden else "no",
                ",".join(r.capabilities),
                _size(r.size),
                json.dumps(dict(r.overrides), separators=(",", ":")) if r.overrides else "",
                "" if r.present else "missing",
            )
            for r in records
        ],
        ["NAME", "DISPLAY NAME", "ENABLED", "HIDDEN", "CAPABILITIES", "SIZE", "OVERRIDES", "STATE"],
    )


@models.command("refresh")
def refresh() -> None:
    """Ask Ollama for its models and record what changed."""
    settings = settings_or_exit()

    async def run(storage: Storage) -> CatalogChanges:
        fleet = await open_fleet(storage, settings)  # the same hosts as the server, the admin UI's URL too
        try:
            catalog = ModelCatalog(
                fleet,
                storage.models,
                reload_seconds=settings.models_cache_seconds,
                refresh_seconds=settings.catalog_refresh_seconds,
            )
            await catalog.reload()  # known capabilities are reused instead of asked for again
            before = list(catalog.records)
            try:
                after = await catalog.refresh()
            except GatewayError as exc:
                raise click.ClickException(f"models not refreshed: {exc.message}") from exc
            return catalog_changes(before, after)
        finally:
            await fleet.close()

    changes = with_storage(run)
    for label, names in (("added", changes.added), ("removed", changes.removed), ("updated", changes.updated)):
        for name in names:
            click.echo(f"{label}: {name}")
    if changes.empty:
        click.echo(f"no changes ({changes.unchanged} models)")
    else:
        click.echo(
            f"{len(changes.added)} added, {len(changes.removed)} removed, {len(changes.updated)} updated, "
            f"{changes.unchanged} unchanged"
        )


def _parse_overrides(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg}", param_hint="--overrides") from exc
    try:
        return validate_overrides(parsed)
    except GatewayError as exc:
        raise click.BadParameter(exc.message, param_hint="--overrides") from exc


@models.command("set")
@click.argument("model")
@click.option("--display-name", default=None, help="The name clients use; '' clears it.")
@click.option("--overrides", default=None, help="Parameter overrides as a JSON object, e.g. '{\"temperature\": 0.2}'.")
@click.option("--enable/--disable", "enabled", default=None, help="Serve the model or refuse it.")
@click.option("--hide/--show", "hidden", default=None, help="Hide the Ollama name behind the display name.")
@click.option("--json", "as_json", is_flag=True, help="Print the model as JSON.")
def set_model(
    model: str,
    display_name: str | None,
    overrides: str | None,
    enabled: bool | None,
    hidden: bool | None,
    as_json: bool,
) -> None:
    """Change a model's display name, overrides, enabled or hidden state."""
    changes: dict[str, Any] = {}
    if display_name is not None:
        changes["display_name"] = display_name.strip() or None
    if overrides is not None:
        changes["overrides"] = _parse_overrides(overrides)
    if enabled is not None:
        changes["enabled"] = enabled
    if hidden is not None:
        changes["hidden"] = hidden
    if not changes:
        raise click.UsageError(
            "nothing to change: give --display-name, --overrides, --enable/--disable or --hide/--show"
        )

    async def run(storage: Storage) -> tuple[ModelRecord | None, ModelRecord]:
        known = await storage.models.get(model)
        return known, await storage.models.set(model, **changes)

    known, record = with_storage(run)
    if as_json:
        echo_json(_model_json(record))
        return
    if known is None:
        click.echo(f"note: Ollama has not listed '{model}' (yet); its settings are saved for when it does", err=True)
    if record.hidden and not record.display_name:
        click.echo("note: hiding takes effect once the model has a display name", err=True)
    click.echo(f"Updated model {record.name}.")
