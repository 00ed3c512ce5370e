"""Settings are read once, validated, and never show secrets."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, Settings
from bot.logs import JsonFormatter, redact

TOKEN = "xoxb-1111-2222-secretvalue"
SIGNING = "signing-secret-value-42"


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings.from_env({})
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///briefbot.db"
    assert settings.timezone.key == "Pacific/Auckland"
    assert settings.default_visibility == "ephemeral"
    assert settings.port == 3000
    assert settings.slack_reply_timeout_seconds == 10
    assert (settings.seeds_dir / "topics.yaml").is_file()
    assert settings.factbase_source == "files"
    assert settings.announce_publish is False


def test_replicas_can_follow_the_published_fact_base() -> None:
    env = {"BRIEFBOT_FACTBASE": "Database", "BRIEFBOT_ANNOUNCE_PUBLISH": "true"}
    settings = Settings.from_env(env)
    assert settings.factbase_source == "database"
    assert settings.announce_publish is True


@pytest.mark.parametrize(
    "variable,value,expected",
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "xapp-"),
        ("SLACK_API_URL", "ftp://slack", "http(s) URL"),
        ("BRIEFBOT_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("BRIEFBOT_DEFAULT_VISIBILITY", "public", "ephemeral or in_channel"),
        ("BRIEFBOT_DATABASE_URL", "mysql://x", "sqlite:///PATH"),
        ("BRIEFBOT_DATABASE_URL", "postgresql+psycopg://bot@db:port/x", "sqlite:///PATH"),
        ("PORT", "70000", "whole number"),
        ("PORT", "abc", "whole number"),
        ("BRIEFBOT_SLACK_REPLY_TIMEOUT_SECONDS", "0", "whole number from 1 to 60"),
        ("BRIEFBOT_SEEDS_DIR", "/nonexistent/seeds", "existing directory"),
        ("BRIEFBOT_REMINDER_CHANNEL", "#policy", "channel id"),
        ("BRIEFBOT_FACTBASE", "s3", "files or database"),
        ("BRIEFBOT_ANNOUNCE_PUBLISH", "sometimes", "true or false"),
    ],
)
def test_invalid_setting_names_the_variable_and_what_is_expected(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({variable: value})
    assert info.value.variable == variable
    assert str(info.value).startswith(f"{variable}: ")
    assert expected in str(info.value)


def test_secrets_never_appear_in_repr_str_or_errors() -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "BRIEFBOT_DATABASE_URL": "postgresql://bot:hunter2@db/briefbot",
        }
    )
    shown = repr(settings) + str(settings) + repr(settings.slack_bot_token)
    assert TOKEN not in shown and SIGNING not in shown and "hunter2" not in shown
    assert settings.slack_bot_token == Secret(TOKEN)
    assert settings.slack_bot_token is not None and settings.slack_bot_token.reveal() == TOKEN
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxp-" + SIGNING})
    assert SIGNING not in str(info.value)


def test_serving_requires_the_token_and_signing_secret() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings.from_env({}).require_http()
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings.from_env({"SLACK_BOT_TOKEN": TOKEN}).require_http()
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        Settings.from_env({"SLACK_BOT_TOKEN": TOKEN}).require_socket_mode()


def test_token_shaped_text_is_redacted_from_log_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"sent with {TOKEN}", None, None)
    assert TOKEN not in JsonFormatter().format(record)
    assert redact("xapp-1-A-123-abc") == "xapp-********"


@pytest.mark.parametrize(
    "env,args,variable",
    [
        ({"BRIEFBOT_TIMEZONE": "Nowhere/Land"}, ["brief", "nato"], "BRIEFBOT_TIMEZONE"),
        ({}, ["serve"], "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN}, ["serve"], "SLACK_SIGNING_SECRET"),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING},
            ["serve", "--socket-mode"],
            "SLACK_APP_TOKEN",
        ),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], args: list[str], variable: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url,shown",
    [
        ("postgresql+psycopg://:hunter2@db/briefbot", "postgresql+psycopg://:***@db/briefbot"),
        (
            "postgresql+psycopg://bot@db/briefbot?password=hunter2&sslpassword=hunter3&sslmode=require",
            "postgresql+psycopg://bot@db/briefbot?password=***&sslmode=require&sslpassword=***",
        ),
        ("postgresql://bot:hun%40ter2@db/briefbot", "postgresql://bot:***@db/briefbot"),
        ("sqlite:////var/lib/briefbot/briefbot.db", "sqlite:////var/lib/briefbot/briefbot.db"),
    ],
)
def test_database_passwords_are_masked_wherever_the_url_is_shown(url: str, shown: str) -> None:
    settings = Settings.from_env({"BRIEFBOT_DATABASE_URL": url})
    assert settings.database_url == url
    assert settings.database_url_masked == shown  # what the start-up log line shows
    assert f"database_url={shown}" in repr(settings)
    assert "hunter" not in repr(settings) + str(settings)


def test_an_invalid_database_url_is_named_without_its_password() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"BRIEFBOT_DATABASE_URL": "mysql://:hunter2@db/x?password=hunter3"})
    assert "hunter" not in str(info.value)
    assert "mysql://:***@db/x" in str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BRIEFBOT_CACHE_DIR": "/srv/cache"}, Path("/srv/cache")),
        ({"BRIEFBOT_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/x"}, Path("/srv/cache")),
        ({"BRIEFBOT_CACHE_DIR": "OFF", "XDG_CACHE_HOME": "/x"}, None),
        ({"XDG_CACHE_HOME": "/x", "HOME": "/home/u"}, Path("/x/briefbot")),
        ({"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}, Path("/home/u/.cache/briefbot")),
        ({"HOME": "/home/u"}, Path("/home/u/.cache/briefbot")),
        ({}, None),
    ],
)
def test_the_cache_directory_follows_the_xdg_convention_unless_set_or_off(
    env: dict[str, str], expected: Path | None
) -> None:
    assert Settings.from_env(env).cache_dir == expected
    assert Settings().cache_dir is None  # settings built in code have no cache
