"""Two `briefbot serve` replicas following the database switch together when a fact base is
published, ignore a refused publication, and keep serving through a snapshot they cannot load."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import SEEDS
from tests.e2e.test_operate import get, wait_until
from tests.fakeslack import FakeSlack
from tests.slackreq import BotProcess, all_text, slash_form

pytestmark = pytest.mark.e2e

SWITCH_DEADLINE = 5.0
"""Seconds within which every replica must serve a newly published version (the issue's aim)."""


def briefbot(*args: str, seeds: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the `briefbot` command line as a curator would."""
    exe = shutil.which("briefbot")
    command = [exe] if exe else [sys.executable, "-m", "bot.cli"]
    env = {**os.environ, "BRIEFBOT_SEEDS_DIR": str(seeds), "BRIEFBOT_DATABASE_URL": database_url}
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def readyz(bot: BotProcess) -> dict[str, Any]:
    _status, body = get(bot.url + "/readyz")
    result: dict[str, Any] = json.loads(body)
    return result


def newest_version(seeds: Path, database_url: str) -> str:
    history = briefbot("history", "--format", "json", seeds=seeds, database_url=database_url)
    assert history.returncode == 0, history.stderr
    version: str = json.loads(history.stdout)[0]["version"]
    return version


def reword_a_fact(seeds: Path) -> None:
    """Change one fact's statement (a curator's correction): a new version that verifies."""
    path = sorted((seeds / "facts").glob("*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    folded = "statement: >-\n    "
    assert folded in text
    path.write_text(text.replace(folded, folded + "Corrected: ", 1), encoding="utf-8")


@pytest.fixture
def curated(tmp_path: Path) -> Path:
    target = tmp_path / "curated-seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def replicas(
    fake_slack: FakeSlack, tmp_path: Path, postgres_url: str, curated: Path
) -> Iterator[list[BotProcess]]:
    first = briefbot("publish", "--author", "curator", seeds=curated, database_url=postgres_url)
    assert first.returncode == 0, first.stdout + first.stderr
    empty = tmp_path / "no-seeds"  # the replicas serve the database, never a seeds/ copy
    empty.mkdir()
    bots = []
    for name in ("one", "two"):
        workdir = tmp_path / name
        workdir.mkdir()
        bots.append(
            BotProcess(
                api_url=fake_slack.base_url,
                workdir=workdir,
                database_url=postgres_url,
                extra_env={
                    "BRIEFBOT_FACTBASE": "database",
                    "BRIEFBOT_SEEDS_DIR": str(empty),
                    "BRIEFBOT_REMINDERS": "off",
                },
            )
        )
    yield bots
    for bot in bots:
        bot.stop()


def test_every_replica_serves_a_published_version_within_seconds(
    replicas: list[BotProcess], curated: Path, postgres_url: str, fake_slack: FakeSlack
) -> None:
    first = newest_version(curated, postgres_url)
    for bot in replicas:
        body = readyz(bot)
        assert body["status"] == "ready"
        assert body["source"] == "database"
        assert body["factbase"]["version"] == first

    reword_a_fact(curated)
    published = briefbot("publish", "--author", "curator", seeds=curated, database_url=postgres_url)
    assert published.returncode == 0, published.stdout + published.stderr
    assert "1 changed" in published.stdout
    second = newest_version(curated, postgres_url)
    assert second != first
    wait_until(
        lambda: all(readyz(bot)["factbase"]["version"] == second for bot in replicas),
        timeout=SWITCH_DEADLINE,
    )
    about = replicas[1].post(slash_form("about", response_url=fake_slack.response_url()))
    assert about.status == 200 and second in all_text(about.json())

    (curated / "topics.yaml").write_text("- id: [\n", encoding="utf-8")
    refused = briefbot("publish", seeds=curated, database_url=postgres_url)
    assert refused.returncode == 2
    assert "topics.yaml:" in refused.stdout and "nothing published" in refused.stdout
    assert newest_version(curated, postgres_url) == second  # nothing was stored...
    for bot in replicas:  # ...so nothing can have changed: both still serve it, healthy
        body = readyz(bot)
        assert (body["status"], body["factbase"]["version"]) == ("ready", second)


def test_a_replica_that_cannot_load_a_snapshot_keeps_the_last_good_one(
    replicas: list[BotProcess], curated: Path, postgres_url: str
) -> None:
    good = newest_version(curated, postgres_url)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:  # a snapshot from a future format this code cannot read
        connection.execute(
            sa.text(
                "INSERT INTO factbase_snapshots (version, author, published_at, documents, "
                "topics, facts, rules, changes, payload) VALUES ('future000000', 'newer code', "
                "now(), 0, 0, 0, 0, '{}', :payload)"
            ),
            {"payload": __import__("zlib").compress(b'{"format": 99}')},
        )
        connection.execute(sa.text("SELECT pg_notify('briefbot_factbase', 'x')"))
    engine.dispose()
    wait_until(lambda: all(readyz(bot)["status"] == "degraded" for bot in replicas))
    for bot in replicas:
        body = readyz(bot)
        assert body["factbase"]["version"] == good
        assert any("format 99" in line for line in body["problems"])

    reword_a_fact(curated)
    published = briefbot("publish", seeds=curated, database_url=postgres_url)
    assert published.returncode == 0, published.stdout + published.stderr
    fixed = newest_version(curated, postgres_url)
    wait_until(
        lambda: all(
            (readyz(bot)["status"], readyz(bot)["factbase"]["version"]) == ("ready", fixed)
            for bot in replicas
        ),
        timeout=SWITCH_DEADLINE,
    )
