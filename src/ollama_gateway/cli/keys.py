"""`ollama-gateway keys ...`: create, list, update and revoke API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from ollama_gateway.cli.common import echo_json, echo_table, plain, split_list, with_storage
from ollama_gateway.service.key_models import check_key_models
from ollama_gateway.storage import Storage


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date or datetime: {value}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _checked(storage: Storage, names: tuple[str, ...] | None, allow_unknown: bool) -> tuple[str, ...] | None:
    """The model names matched to the catalog; bare families resolved (and said so); unknown ones refused."""
    if names is None:
        return None
    checked = await check_key_models(storage.models, names, allow_unknown=allow_unknown)
    for given, full in checked.resolved.items():
        click.echo(f"note: '{given}' is {full} (the only {given} model)", err=True)
    if checked.unknown:
        click.echo(f"note: not in the catalog (yet): {', '.join(checked.unknown)}", err=True)
    return tuple(checked.names)


@click.group()
def keys() -> None:
    """Manage API keys (secrets are shown once, at creation)."""


@keys.command("create")
@click.option("--name", required=True, help="A label for the key.")
@click.option("--models", default=None, help="Comma-separated models the key may use (default: all).")
@click.option("--rpm", type=int, default=None, help="Requests per minute.")
@click.option("--tpm", type=int, default=None, help="Tokens per minute.")
@click.option("--budget", "token_budget", type=int, default=None, help="Total token budget.")
@click.option("--expires", default=None, help="Expiry as an ISO date or datetime (UTC when no zone).")
@click.option("--allow-unknown", is_flag=True, help="Accept model names the catalog does not know (not pulled yet).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(
    name: str,
    models: str | None,
    rpm: int | None,
    tpm: int | None,
    token_budget: int | None,
    expires: str | None,
    allow_unknown: bool,
    as_json: bool,
) -> None:
    """Create a key and print its secret once."""
    expires_at = _parse_date(expires)

    async def run(storage: Storage) -> tuple[Any, str]:
        names = await _checked(storage, split_list(models), allow_unknown)
        return await storage.keys.create(
            name=name, models=names, rpm=rpm, tpm=tpm, token_budget=token_budget, expires_at=expires_at
        )

    record, secret = with_storage(run)
    if as_json:
        echo_json({**plain(record), "key": secret})
        return
    click.echo(f"Created key {record.id} ({record.name}). Its secret, shown only now:")
    click.echo(secret)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_keys(as_json: bool) -> None:
    """List keys (never their secrets)."""

    async def run(storage: Storage) -> Any:
        return await storage.keys.list()

    records = with_storage(run)
    if as_json:
        echo_json(records)
        return
    echo_table(
        [
            (
                r.id,
                r.name,
                r.prefix + "…",
                ",".join(r.models) if r.models else "*",
                r.rpm,
                r.tpm,
                r.expires_at.isoformat() if r.expires_at else "",
                "revoked" if r.revoked else "active",
            )
            for r in records
        ],
        ["ID", "NAME", "PREFIX", "MODELS", "RPM", "TPM", "EXPIRES", "STATE"],
    )


@keys.command("update")
@click.argument("key_id")
@click.option("--name", default=None)
@click.option("--models", default=None, help="Comma-separated models, or '*' for all.")
@click.option("--rpm", type=int, default=None, help="Requests per minute (0 removes the limit).")
@click.option("--tpm", type=int, default=None, help="Tokens per minute (0 removes the limit).")
@click.option("--budget", "token_budget", type=int, default=None, help="Token budget (0 removes it).")
@click.option("--expires", default=None, help="ISO date, or 'never'.")
@click.option("--allow-unknown", is_flag=True, help="Accept model names the catalog does not know (not pulled yet).")
@click.option("--json", "as_json", is_flag=True)
def update(
    key_id: str,
    name: str | None,
    models: str | None,
    rpm: int | None,
    tpm: int | None,
    token_budget: int | None,
    expires: str | None,
    allow_unknown: bool,
    as_json: bool,
) -> None:
    """Change a key's name, models, limits or expiry."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if models is not None:
        changes["models"] = None if models.strip() == "*" else split_list(models)
    for field, value in (("rpm", rpm), ("tpm", tpm), ("token_budget", token_budget)):
        if value is not None:
            changes[field] = value or None
    if expires is not None:
        changes["expires_at"] = None if expires == "never" else _parse_date(expires)

    async def run(storage: Storage) -> Any:
        if changes.get("models"):
            changes["models"] = await _checked(storage, changes["models"], allow_unknown)
        return await storage.keys.update(key_id, **changes)

    record = with_storage(run)
    if record is None:
        raise click.ClickException(f"no key with id {key_id}")
    if as_json:
        echo_json(record)
    else:
        click.echo(f"Updated key {record.id}.")


@keys.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke a key; requests with it fail with 401 from then on."""

    async def run(storage: Storage) -> Any:
        return await storage.keys.revoke(key_id)

    if with_storage(run) is None:
        raise click.ClickException(f"no key with id {key_id}")
    click.echo(f"Revoked key {key_id}.")
