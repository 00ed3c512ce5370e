"""Shared fixtures: the fake Slack Web API, the real seeds, and PostgreSQL when configured."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.factbase import FactBase, load_factbase
from tests.fakeslack import fake_slack  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TEMPLATES = ROOT / "templates"
POSTGRES_ENV = "BRIEFBOT_TEST_POSTGRES_URL"
SETTING_PREFIXES = ("BRIEFBOT_", "SLACK_")
"""The environment variables the bot reads as its settings start with these."""


def clear_settings(monkeypatch: pytest.MonkeyPatch, *, keep: tuple[str, ...] = ()) -> None:
    """Unset every bot setting for this test (but those in `keep`): the defaults, that is the
    bundled seeds and templates, unless the test sets one."""
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES) and name not in keep:
            monkeypatch.delenv(name)


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every setting at its default (`clear_settings`); modules use it with `usefixtures`."""
    clear_settings(monkeypatch)


def environment_without_settings() -> dict[str, str]:
    """This process's environment without the bot's settings, for a `briefbot` subprocess."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}


@pytest.fixture(autouse=True, scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The CLI's cache (`bot.cache`) goes to a directory of this test session, never to the
    developer's `~/.cache`: through `XDG_CACHE_HOME`, which the tests that clear the bot's
    settings (`BRIEFBOT_*`) keep, and which every process a test starts inherits."""
    home = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    yield home
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


def cli(*argv: str) -> tuple[int, str]:
    """Run `briefbot ARGV...` in-process; its exit code and what it printed on stdout."""
    from bot.cli import main

    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


@pytest.fixture(scope="session")
def factbase() -> FactBase:
    """The bundled fact base, loaded and verified once per session."""
    return load_factbase(SEEDS).require()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test, or a skip saying how to enable it."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV}, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
        )
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
