"""The schema as SQLAlchemy Core tables; migrations create it, and a test checks the two agree."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ollama_gateway.storage.sql import UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON documents: JSONB on PostgreSQL, text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("models", Json, nullable=True),
    sa.Column("rpm", sa.Integer, nullable=True),
    sa.Column("tpm", sa.Integer, nullable=True),
    sa.Column("token_budget", sa.BigInteger, nullable=True),
    sa.Column("tokens_used", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    # Admin area (0003_admin): budget reset period, and the previous secret still valid during a rotation's grace.
    sa.Column("budget_period", sa.String(16), nullable=True),
    sa.Column("budget_period_start", UTCDateTime, nullable=True),
    sa.Column("previous_secret_hash", sa.String(64), nullable=True),
    sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True),
    sa.Index(None, "secret_hash", unique=True),
    sa.Index(None, "previous_secret_hash", unique=True),
)

model_settings = sa.Table(
    "model_settings",
    metadata,
    sa.Column("name", sa.String(300), primary_key=True),
    sa.Column("display_name", sa.String(300), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("overrides", Json, nullable=False),
    sa.Column("capabilities", Json, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("details", Json, nullable=False),
    sa.Column("modified_at", UTCDateTime, nullable=True),
    sa.Column("last_seen_at", UTCDateTime, nullable=True),
    sa.Column("present", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "display_name", unique=True),
)

usage = sa.Table(
    "usage",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("key_id", sa.String(32), nullable=True),
    sa.Column("model_requested", sa.String(300), nullable=False),
    sa.Column("model_upstream", sa.String(300), nullable=False),
    sa.Column("endpoint", sa.String(100), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("ttft_ms", sa.Integer, nullable=True),
    sa.Column("stream", sa.Boolean, nullable=False),
    sa.Column("task_id", sa.String(200), nullable=True),
    sa.Column("client_ip", sa.String(64), nullable=True),
    sa.Column("user_agent", sa.String(500), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "created_at"),
    sa.Index(None, "key_id", "created_at"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

rate_counters = sa.Table(
    "rate_counters",
    metadata,
    sa.Column("bucket", sa.String(300), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Index(None, "window_start"),
)

# Ollama hosts behind the gateway, shared by every replica. OLLAMA_URL / OLLAMA_URLS add hosts that live only in
# the settings; rows here are the ones added from the admin UI or the CLI.
ollama_hosts = sa.Table(
    "ollama_hosts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_concurrent", sa.Integer, nullable=True),
    sa.Column("auth_header", sa.Text, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("draining", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "url", unique=True),
)

# Admin area (migration 0003_admin): who changed what, and login attempts counted per window for the throttle.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("target", sa.String(300), nullable=True),
    sa.Column("detail", Json, nullable=True),
    sa.Column("client_ip", sa.String(64), nullable=True),
    sa.Index(None, "created_at"),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Index(None, "window_start"),
)
