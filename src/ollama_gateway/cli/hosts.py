"""`ollama-gateway hosts ...`: the Ollama hosts behind the gateway, stored in the database every replica reads."""

from __future__ import annotations

from typing import Any

import click

from ollama_gateway.cli.common import echo_json, echo_table, with_storage
from ollama_gateway.service.hosts import stored_host_ref
from ollama_gateway.settings import load_settings
from ollama_gateway.storage import Storage
from ollama_gateway.storage.hosts import HostRecord
from ollama_gateway.upstream.hosts import settings_hosts


@click.group()
def hosts() -> None:
    """List, add, change, drain and remove Ollama hosts (running gateways pick changes up within seconds)."""


@hosts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_hosts(as_json: bool) -> None:
    """The hosts from the settings (OLLAMA_URL / OLLAMA_URLS) and those stored in the database."""
    stored: list[HostRecord] = with_storage(lambda s: s.hosts.list())
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "url": c.url,
            "name": None,
            "source": "settings",
            "weight": c.weight,
            "priority": c.priority,
            "max_concurrent": c.max_concurrent,
            "enabled": True,
            "draining": False,
            "auth": False,
        }
        for c in settings_hosts(load_settings())
        if c.url not in {r.url for r in stored}
    ]
    rows += [
        {
            "id": r.id,
            "url": r.url,
            "name": r.name,
            "source": "database",
            "weight": r.weight,
            "priority": r.priority,
            "max_concurrent": r.max_concurrent,
            "enabled": r.enabled,
            "draining": r.draining,
            "auth": r.auth_header is not None,
        }
        for r in stored
    ]
    if as_json:
        echo_json(rows)
        return
    headers = ["ID", "URL", "NAME", "SOURCE", "WEIGHT", "PRIORITY", "MAX", "STATE", "AUTH"]
    echo_table(
        [
            [
                r["id"],
                r["url"],
                r["name"],
                r["source"],
                r["weight"],
                r["priority"],
                r["max_concurrent"] or "default",
                "draining" if r["draining"] else ("enabled" if r["enabled"] else "disabled"),
                "yes" if r["auth"] else "",
            ]
            for r in rows
        ],
        headers,
    )


def _options(f: Any) -> Any:
    for option in (
        click.option("--name", default=None, help="A name to show instead of the URL."),
        click.option("--weight", type=int, default=None, help="Share of the load within one priority (default 1)."),
        click.option("--priority", type=int, default=None, help="Higher priorities are tried first (default 0)."),
        click.option("--max-concurrent", type=int, default=None, help="Requests sent to it at once (default 4)."),
        click.option("--auth-header", default=None, help="An Authorization header value sent to this host."),
    ):
        f = option(f)
    return f


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@hosts.command("add")
@click.argument("url")
@_options
def add(url: str, **values: Any) -> None:
    """Add the Ollama host at URL."""
    record: HostRecord = with_storage(lambda s: s.hosts.add(url, **_given(**values)))
    click.echo(f"added {record.id} {record.url}")


@hosts.command("update")
@click.argument("host")
@_options
@click.option("--enable/--disable", "enabled", default=None, help="Take requests, or not.")
def update(host: str, **values: Any) -> None:
    """Change a stored host (by id, name or URL)."""
    record: HostRecord = with_storage(lambda s: s.hosts.update(host, **_given(**values)))
    click.echo(f"updated {record.id} {record.url}")


@hosts.command("drain")
@click.argument("host")
@click.option("--undo", is_flag=True, help="Take new requests again.")
def drain(host: str, undo: bool) -> None:
    """Stop sending new requests to a host; requests in flight finish. A settings host is stored to be drained."""

    async def run(storage: Storage) -> HostRecord:
        ref = await stored_host_ref(storage, load_settings(), host)
        return await storage.hosts.update(ref, draining=not undo)

    record: HostRecord = with_storage(run)
    click.echo(f"{'undrained' if undo else 'draining'} {record.id} {record.url}")


@hosts.command("remove")
@click.argument("host")
def remove(host: str) -> None:
    """Remove a stored host (by id, name or URL)."""
    record: HostRecord = with_storage(lambda s: s.hosts.remove(host))
    click.echo(f"removed {record.id} {record.url}")
