"""`ollama-gateway usage ...`: list or summarise usage records, and prune old ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from ollama_gateway.admin.usage_csv import usage_csv_rows
from ollama_gateway.cli.common import echo_json, echo_table, plain, settings_or_exit, with_storage
from ollama_gateway.storage import Storage, UsageRecord, UsageSummaryRow

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGO = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(value: str) -> timedelta | None:
    """`90d`, `12h`, `30m`, `2w`, `45s` → a timedelta; None when `value` is not such a duration."""
    match = _AGO.match(value.lower())
    if match is None:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_moment(value: str, now: datetime) -> datetime:
    """A point in time: a duration back from `now` (`7d`) or an ISO date/datetime (UTC when no zone is given)."""
    ago = parse_duration(value)
    if ago is not None:
        return now - ago
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(f"expected an ISO date or datetime, or a duration like 1h or 7d: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MomentType(click.ParamType[datetime]):
    """A click parameter for `parse_moment`."""

    name = "DATE|DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse the option's text (values already converted pass through)."""
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value), datetime.now(UTC))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


MOMENT = MomentType()


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_records(records: list[UsageRecord]) -> None:
    echo_table(
        [
            (
                _time(r.created_at),
                r.key_id or "-",
                r.model_requested,
                r.model_upstream if r.model_upstream != r.model_requested else "",
                r.endpoint,
                r.status,
                r.prompt_tokens,
                r.completion_tokens,
                r.latency_ms,
                "" if r.ttft_ms is None else r.ttft_ms,
                "yes" if r.stream else "no",
            )
            for r in records
        ],
        [
            "TIME (UTC)",
            "KEY",
            "MODEL",
            "UPSTREAM",
            "ENDPOINT",
            "STATUS",
            "PROMPT",
            "COMPLETION",
            "MS",
            "TTFT",
            "STREAM",
        ],
    )


def _summary_json(row: UsageSummaryRow) -> dict[str, Any]:
    values: dict[str, Any] = plain(row)
    return {**values, "day": row.day.isoformat(), "total_tokens": row.total_tokens}


def _print_summary(rows: list[UsageSummaryRow]) -> None:
    echo_table(
        [
            (
                row.day.isoformat(),
                row.key_id or "-",
                row.model,
                row.requests,
                row.errors,
                row.prompt_tokens,
                row.completion_tokens,
                row.total_tokens,
                f"{row.avg_latency_ms:.0f}",
            )
            for row in rows
        ],
        ["DAY", "KEY", "MODEL", "REQUESTS", "ERRORS", "PROMPT", "COMPLETION", "TOTAL", "AVG MS"],
    )


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--since", type=MOMENT, default=None, help="From this moment: ISO date/datetime, or 1h, 7d ago.")
@click.option("--until", type=MOMENT, default=None, help="Before this moment (same forms as --since).")
@click.option("--key", "key_id", default=None, help="Only this key id.")
@click.option("--model", default=None, help="Only this model (requested or upstream name).")
@click.option("--endpoint", default=None, help="Only this endpoint, e.g. /v1/chat/completions.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most this many records.")
@click.option("--summary", is_flag=True, help="Totals per key, model and UTC day instead of single records.")
@click.option("--csv", "as_csv", is_flag=True, help="Every matching record as CSV (with key names); ignores --limit.")
@click.pass_context
def usage(
    ctx: click.Context,
    as_json: bool,
    since: datetime | None,
    until: datetime | None,
    key_id: str | None,
    model: str | None,
    endpoint: str | None,
    limit: int,
    summary: bool,
    as_csv: bool,
) -> None:
    """List usage records, newest first, or summarise them with --summary, or export them with --csv."""
    if ctx.invoked_subcommand is not None:
        return
    filters: dict[str, Any] = {"since": since, "until": until, "key_id": key_id, "model": model, "endpoint": endpoint}
    if as_csv:
        _write_csv(filters)
        return
    if summary:

        async def summarise(storage: Storage) -> list[UsageSummaryRow]:
            return await storage.usage.summary(**filters)

        rows = with_storage(summarise)
        if as_json:
            echo_json([_summary_json(row) for row in rows])
        elif rows:
            _print_summary(rows)
        else:
            click.echo("no usage recorded for these filters")
        return

    async def query(storage: Storage) -> tuple[list[UsageRecord], int]:
        return await storage.usage.query(**filters, limit=limit), await storage.usage.count(**filters)

    records, total = with_storage(query)
    if as_json:
        echo_json(records)
        return
    if not records:
        click.echo("no usage recorded for these filters")
        return
    _print_records(records)
    if total > len(records):
        click.echo(f"({len(records)} of {total} records; raise --limit to see more)")


def _write_csv(filters: dict[str, Any]) -> None:
    async def export(storage: Storage) -> None:
        key_names = {k.id: k.name for k in await storage.keys.list()}
        async for line in usage_csv_rows(storage.usage, filters, key_names):
            click.echo(line.decode(), nl=False)

    with_storage(export)


@usage.command("prune")
@click.option("--older-than", "older_than", default=None, help="Age (90d, 12h) or ISO date; default: retention.")
def prune(older_than: str | None) -> None:
    """Delete usage records older than the retention period (USAGE_RETENTION_DAYS) or --older-than."""
    now = datetime.now(UTC)
    if older_than is None:
        cutoff = now - timedelta(days=settings_or_exit().usage_retention_days)
    else:
        try:
            cutoff = parse_moment(older_than, now)
        except click.BadParameter as exc:
            raise click.BadParameter(exc.message, param_hint="--older-than") from exc

    async def run(storage: Storage) -> int:
        return await storage.usage.prune(cutoff)

    deleted = with_storage(run)
    click.echo(f"deleted {deleted} usage records from before {_time(cutoff)} UTC")
