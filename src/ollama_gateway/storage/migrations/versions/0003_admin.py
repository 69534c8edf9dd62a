"""Admin area: audit log, shared login-attempt counters, key budget periods and rotation grace.

Revision ID: 0003_admin
Revises: 0002_hosts
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_admin"
down_revision = "0002_hosts"
branch_labels = None
depends_on = None

# Frozen copies of the column types: a migration must not change when the application's types do.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the audit log and login-attempt tables; add budget period and rotation columns to api_keys."""
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(300), nullable=True),
        sa.Column("detail", Json, nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_table(
        "login_attempts",
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("scope", "window_start", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_window_start", "login_attempts", ["window_start"])
    op.add_column("api_keys", sa.Column("budget_period", sa.String(16), nullable=True))
    op.add_column("api_keys", sa.Column("budget_period_start", Timestamp, nullable=True))
    op.add_column("api_keys", sa.Column("previous_secret_hash", sa.String(64), nullable=True))
    op.add_column("api_keys", sa.Column("previous_secret_expires_at", Timestamp, nullable=True))
    op.create_index("ix_api_keys_previous_secret_hash", "api_keys", ["previous_secret_hash"], unique=True)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_api_keys_previous_secret_hash", table_name="api_keys")
    with op.batch_alter_table("api_keys") as batch:
        for column in ("previous_secret_expires_at", "previous_secret_hash", "budget_period_start", "budget_period"):
            batch.drop_column(column)
    op.drop_index("ix_login_attempts_window_start", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
    op.drop_table("audit_log")
