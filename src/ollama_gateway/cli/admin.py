"""`ollama-gateway admin ...`: set the admin password (the web UI's login), lift the login throttle."""

from __future__ import annotations

import sys

import click

from ollama_gateway.admin.passwords import check_new_password, set_password
from ollama_gateway.cli.common import with_storage
from ollama_gateway.errors import GatewayError
from ollama_gateway.storage import Storage


@click.group()
def admin() -> None:
    """Administer the admin web UI."""


@admin.command("set-password")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (one line).")
def set_password_command(password_stdin: bool) -> None:
    """Set the admin password (asked twice unless --password-stdin); existing admin sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New admin password", hide_input=True, confirmation_prompt=True)
    try:
        check_new_password(password)
    except GatewayError as exc:
        raise click.ClickException(exc.message) from exc

    async def run(storage: Storage) -> None:
        await set_password(storage.kv, password)
        await storage.changes.note("settings")  # running gateways end old admin sessions within a second
        await storage.audit.record("cli", "password.change")

    with_storage(run)
    click.echo("admin password updated (note: ADMIN_PASSWORD, when set, replaces it at the next start)")


@admin.command("unlock")
def unlock_command() -> None:
    """Clear every login-throttle count (per address and global), e.g. after a password-spraying attack."""

    async def run(storage: Storage) -> int:
        cleared = await storage.login_attempts.clear()
        await storage.audit.record("cli", "login.unlock", detail={"windows_cleared": cleared})
        return cleared

    cleared = with_storage(run)
    click.echo(f"login throttle cleared ({cleared} counter windows removed)")
