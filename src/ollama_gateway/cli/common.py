"""Helpers every CLI command shares: running against storage, printing JSON or tables."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from ollama_gateway.errors import GatewayError
from ollama_gateway.settings import Settings, describe_errors, load_settings
from ollama_gateway.storage import Storage, open_storage

T = TypeVar("T")

# Exit status for bad settings, as for bad command-line usage.
BAD_SETTINGS_EXIT = 2


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings from the environment and `.env`; on a bad value one line per variable, then exit 2."""
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        bad_settings(describe_errors(exc))


def bad_settings(lines: Sequence[str]) -> NoReturn:
    """Print each problem as `ollama-gateway: error: NAME: what is wrong` and exit with status 2."""
    for line in lines:
        click.echo(f"ollama-gateway: error: {line}", err=True)
    sys.exit(BAD_SETTINGS_EXIT)


def sqlite_path(settings: Settings) -> Path | None:
    """The absolute path of the SQLite file the settings name, or None for PostgreSQL and in-memory databases."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database).expanduser().resolve()


def describe_database(settings: Settings) -> str:
    """Where the database is, for people: a file path, or the URL without its password."""
    path = sqlite_path(settings)
    if path is not None:
        return str(path)
    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


def check_database(settings: Settings, *, create: bool) -> None:
    """Say which database is used; refuse a SQLite file that does not exist yet unless `create` (exit 1)."""
    path = sqlite_path(settings)
    click.echo(f"database: {describe_database(settings)}", err=True)
    if path is not None and not path.exists() and not create:
        raise click.ClickException(
            f"no database at {path}. Run this in the directory the gateway runs in, set GATEWAY_DATA_DIR or "
            "DATABASE_URL to the gateway's database, or pass --create-db (or run `ollama-gateway migrate`) "
            "to create a new one"
        )


def with_storage(action: Callable[[Storage], Awaitable[T]]) -> T:
    """Open the configured database, run `action`, close it; gateway errors become a clean CLI error."""
    settings = settings_or_exit()
    context = click.get_current_context(silent=True)
    create = bool(context and context.find_root().params.get("create_db"))
    check_database(settings, create=create)

    async def run() -> T:
        storage = await open_storage(settings.sqlalchemy_url)
        try:
            return await action(storage)
        finally:
            await storage.close()

    try:
        return asyncio.run(run())
    except GatewayError as exc:
        raise click.ClickException(exc.message) from exc


def plain(value: Any) -> Any:
    """A JSON-ready copy of dataclasses, datetimes and tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def echo_json(value: Any) -> None:
    """Print `value` as JSON."""
    click.echo(json.dumps(plain(value), indent=2, sort_keys=False))


def echo_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """Print rows as an aligned table (rich); cells never wrap, so piped output stays one line per row."""
    table = Table(*headers, box=None, header_style="bold", pad_edge=False, show_edge=False)
    for column in table.columns:
        column.no_wrap = True
        column.overflow = "ignore"
    for row in rows:
        table.add_row(*[("" if c is None else str(c)) for c in row])
    out = sys.stdout  # click's test runner swaps it per invocation
    console = Console(file=out, width=None if out.isatty() else 10_000, highlight=False, soft_wrap=True)
    console.print(table)


def split_list(value: str | None) -> tuple[str, ...] | None:
    """`a,b` → ("a", "b"); None or empty → None."""
    if not value:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())
