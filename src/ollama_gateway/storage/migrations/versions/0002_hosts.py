"""Ollama hosts: the fleet's list, shared by every replica.

Revision ID: 0002_hosts
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_hosts"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the hosts table."""
    op.create_table(
        "ollama_hosts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_concurrent", sa.Integer, nullable=True),
        sa.Column("auth_header", sa.Text, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("draining", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ollama_hosts"),
    )
    op.create_index("ix_ollama_hosts_url", "ollama_hosts", ["url"], unique=True)


def downgrade() -> None:
    """Drop the hosts table."""
    op.drop_index("ix_ollama_hosts_url", table_name="ollama_hosts")
    op.drop_table("ollama_hosts")
