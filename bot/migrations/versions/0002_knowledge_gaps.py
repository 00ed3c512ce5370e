"""Knowledge gaps: queries that found nothing, or only by the weakest method.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_gaps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_type", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("best_score", sa.Float, nullable=False),
    )
    op.create_index("ix_knowledge_gaps_created_at", "knowledge_gaps", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_gaps_created_at", table_name="knowledge_gaps")
    op.drop_table("knowledge_gaps")
