"""Keys, model settings, usage, settings and rate counters: one schema on SQLite (default) or PostgreSQL."""

from __future__ import annotations

from ollama_gateway.storage.counters import CounterStore
from ollama_gateway.storage.database import Database, create_engine
from ollama_gateway.storage.facade import Storage, open_storage
from ollama_gateway.storage.keys import KeyRecord, KeyStore
from ollama_gateway.storage.kv import SettingsStore
from ollama_gateway.storage.models import CatalogEntry, ModelRecord, ModelStore
from ollama_gateway.storage.schema import migrate
from ollama_gateway.storage.sql import UNSET, Unset
from ollama_gateway.storage.usage import UsageBucket, UsageRecord, UsageStore, UsageSummaryRow
from ollama_gateway.storage.usage_writer import UsageWriter

__all__ = [
    "UNSET",
    "CatalogEntry",
    "CounterStore",
    "Database",
    "KeyRecord",
    "KeyStore",
    "ModelRecord",
    "ModelStore",
    "SettingsStore",
    "Storage",
    "Unset",
    "UsageBucket",
    "UsageRecord",
    "UsageStore",
    "UsageSummaryRow",
    "UsageWriter",
    "create_engine",
    "migrate",
    "open_storage",
]
