"""Initial schema: processed Events API deliveries and the reminder delivery ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reminder_deliveries",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("rule_id", sa.String(120), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("late", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_reminder_deliveries_status", "reminder_deliveries", ["status"])


def downgrade() -> None:
    op.drop_index("ix_reminder_deliveries_status", table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")
    op.drop_table("processed_events")
