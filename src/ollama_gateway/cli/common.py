"""Helpers every CLI command shares: running against storage, printing JSON or tables."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click

from ollama_gateway.errors import GatewayError
from ollama_gateway.settings import load_settings
from ollama_gateway.storage import Storage, open_storage

T = TypeVar("T")


def with_storage(action: Callable[[Storage], Awaitable[T]]) -> T:
    """Open the configured database, run `action`, close it; gateway errors become a clean CLI error."""

    async def run() -> T:
        storage = await open_storage(load_settings().sqlalchemy_url)
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
    """Print rows as an aligned text table."""
    text = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in text:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def split_list(value: str | None) -> tuple[str, ...] | None:
    """`a,b` → ("a", "b"); None or empty → None."""
    if not value:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())
