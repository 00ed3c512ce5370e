"""The bot's own database: event deduplication, the reminder delivery ledger, knowledge gaps.

SQLite by default; PostgreSQL when several replicas share one database. The schema is versioned
with Alembic migrations (`bot/migrations/`), which run on start-up.
"""

from __future__ import annotations

from bot.db.engine import Database, make_engine, migrate, with_reconnect
from bot.db.schema import metadata, processed_events

__all__ = ["Database", "make_engine", "metadata", "migrate", "processed_events", "with_reconnect"]
