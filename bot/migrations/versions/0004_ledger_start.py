"""The ledger's first start: nothing due before the bot first ran reminders is owed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder_ledger_start",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A ledger already in use started no later than its oldest occurrence: keep all it owes.
    op.execute(
        "INSERT INTO reminder_ledger_start (id, started_at) "
        "SELECT 1, MIN(due_at) FROM reminder_deliveries HAVING COUNT(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("reminder_ledger_start")
