"""The usage log as CSV, shared by the admin API's download and `ollama-gateway usage --csv`."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from ollama_gateway.storage.usage import UsageRecord, UsageStore

CSV_COLUMNS = (
    "created_at",
    "key_id",
    "key_name",
    "model_requested",
    "model_upstream",
    "endpoint",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "stream",
    "task_id",
    "client_ip",
    "user_agent",
    "error",
)
CSV_BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell's text; a leading =, +, - or @ would make a spreadsheet evaluate it, so it is neutralised."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_line(values: list[str]) -> bytes:
    """One CSV line, encoded."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode()


def record_cells(record: UsageRecord, key_names: Mapping[str, str]) -> list[str]:
    """A record's cells in CSV_COLUMNS order, with the key's name looked up by id (empty when deleted)."""
    values = {column: getattr(record, column, None) for column in CSV_COLUMNS}
    values["key_name"] = key_names.get(record.key_id or "", "")
    return [csv_cell(values[column]) for column in CSV_COLUMNS]


async def usage_csv_rows(
    store: UsageStore, store_args: Mapping[str, Any], key_names: Mapping[str, str]
) -> AsyncIterator[bytes]:
    """The header, then every matching record, read in batches."""
    yield csv_line(list(CSV_COLUMNS))
    offset = 0
    while True:
        batch: list[UsageRecord] = await store.query(**store_args, limit=CSV_BATCH, offset=offset)
        for record in batch:
            yield csv_line(record_cells(record, key_names))
        if len(batch) < CSV_BATCH:
            return
        offset += CSV_BATCH
