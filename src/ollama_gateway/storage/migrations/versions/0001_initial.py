"""Initial schema: API keys, model settings, usage, key-value settings and rate counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types: a migration must not change when the application's types do.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("models", Json, nullable=True),
        sa.Column("rpm", sa.Integer, nullable=True),
        sa.Column("tpm", sa.Integer, nullable=True),
        sa.Column("token_budget", sa.BigInteger, nullable=True),
        sa.Column("tokens_used", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_used_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_secret_hash", "api_keys", ["secret_hash"], unique=True)

    op.create_table(
        "model_settings",
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("display_name", sa.String(300), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("overrides", Json, nullable=False),
        sa.Column("capabilities", Json, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("details", Json, nullable=False),
        sa.Column("modified_at", Timestamp, nullable=True),
        sa.Column("last_seen_at", Timestamp, nullable=True),
        sa.Column("present", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("name", name="pk_model_settings"),
    )
    op.create_index("ix_model_settings_display_name", "model_settings", ["display_name"], unique=True)

    op.create_table(
        "usage",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("created_at", Timestamp, nullable=False),
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
        sa.PrimaryKeyConstraint("id", name="pk_usage"),
    )
    op.create_index("ix_usage_created_at", "usage", ["created_at"])
    op.create_index("ix_usage_key_id_created_at", "usage", ["key_id", "created_at"])

    op.create_table(
        "settings",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_settings"),
    )

    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(300), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name="pk_rate_counters"),
    )
    op.create_index("ix_rate_counters_window_start", "rate_counters", ["window_start"])


def downgrade() -> None:
    """Drop everything the upgrade created."""
    op.drop_table("rate_counters")
    op.drop_table("settings")
    op.drop_table("usage")
    op.drop_table("model_settings")
    op.drop_table("api_keys")
