"""Alembic environment: migrations run on the connection the bot hands over (`bot.db.migrate`)."""

from __future__ import annotations

from alembic import context

from bot.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the bot always passes a connection
    raise RuntimeError("run migrations through bot.db.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
