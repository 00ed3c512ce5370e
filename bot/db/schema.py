"""Table definitions (SQLAlchemy Core). Changing one means adding an Alembic migration."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
"""Events API deliveries already handled; the primary key makes a retried event a no-op."""

reminder_deliveries = Table(
    "reminder_deliveries",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("rule_id", String(120), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(120), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("posted_at", DateTime(timezone=True), nullable=True),
    Column("ts", String(32), nullable=True),
    Column("late", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
)
"""The reminder delivery ledger: one row per occurrence key, claimed before anything is posted.

`lease_until` is wall-clock time (never a pass's logical `--now`): a `sending` claim whose lease
has not run out belongs to a live pass and is never taken over.
"""

reminder_ledger_start = Table(
    "reminder_ledger_start",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)
"""One row (id 1): when the first delivery pass ran; nothing due before it is owed."""

knowledge_gaps = Table(
    "knowledge_gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel_type", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("best_score", Float, nullable=False),
)
"""Queries the bot could not answer well (not found, or found only by word search); no user ids."""

factbase_snapshots = Table(
    "factbase_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, index=True),
    Column("author", String(120), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("documents", Integer, nullable=False),
    Column("topics", Integer, nullable=False),
    Column("facts", Integer, nullable=False),
    Column("rules", Integer, nullable=False),
    Column("changes", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)
"""Published fact bases, newest last: rows are only ever added (a rollback adds a copy of an
earlier one), so the highest id is what every replica following the database serves."""
