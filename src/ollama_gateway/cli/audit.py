"""`ollama-gateway audit list`: the admin audit log (who changed what, when, from where)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from ollama_gateway.cli.common import echo_json, echo_table, with_storage
from ollama_gateway.cli.usage import MOMENT
from ollama_gateway.storage import Storage
from ollama_gateway.storage.audit import AuditEntry


@click.group()
def audit() -> None:
    """Read the admin audit log."""


@audit.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Newest N entries.")
@click.option("--action", default=None, help="One action (key.create) or a family ending in a dot (key.).")
@click.option("--since", type=MOMENT, default=None, help="Only entries newer than this (7d, 12h, or an ISO date).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(limit: int, action: str | None, since: datetime | None, as_json: bool) -> None:
    """List audit entries, newest first."""
    start = since

    async def run(storage: Storage) -> list[AuditEntry]:
        return await storage.audit.list(limit=limit, action=action, since=start)

    entries = with_storage(run)
    if as_json:
        echo_json(entries)
        return
    rows = [
        (
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.target or "",
            e.client_ip or "",
            json.dumps(e.detail, sort_keys=True) if e.detail else "",
        )
        for e in entries
    ]
    echo_table(rows, ["when (UTC)", "who", "action", "target", "from", "detail"])
