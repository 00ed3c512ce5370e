"""An event's de-duplication claim is one statement in autocommit: one database round trip per
event, with no BEGIN/COMMIT and no ping before it, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.db import Database


def database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if kind == "sqlite":
        return Database(f"sqlite:///{tmp_path / 'claims.db'}")
    return Database(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_claim_is_one_autocommit_statement(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = database(kind, tmp_path, request)
    try:
        db.claim_event("EvWarm", "app_mention")  # the pool holds a connection now
        seen: list[str] = []

        def on_execute(_conn: Any, cursor: Any, statement: str, *_rest: Any) -> None:
            dbapi = cursor.connection  # autocommit: nothing to BEGIN or COMMIT around it
            autocommit = getattr(dbapi, "autocommit", None) or dbapi.isolation_level is None
            seen.append(f"{statement.split()[0].upper()} autocommit={autocommit}")

        claims = db.claims  # on PostgreSQL an engine of its own, on SQLite the same one
        for engine in (db.engine, claims) if claims.pool is not db.engine.pool else (db.engine,):
            event.listen(engine, "before_cursor_execute", on_execute)
        first = db.claim_event("Ev1", "app_mention")
        again = db.claim_event("Ev1", "app_mention")
        assert (first, again) == (True, False)
        assert seen == ["INSERT autocommit=True", "INSERT autocommit=True"]
    finally:
        db.dispose()
