"""The Slack app manifests in deploy/ match what the app registers and serves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.registry import BOT_EVENTS, BOT_SCOPES, EVENTS_PATH, SLASH_COMMANDS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
HTTP = DEPLOY / "slack-app-manifest.yaml"
SOCKET = DEPLOY / "slack-app-manifest.socket.yaml"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", [HTTP, SOCKET], ids=["http", "socket"])
def test_manifest_declares_exactly_what_the_app_registers(path: Path) -> None:
    manifest = load(path)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert sorted(commands) == sorted(SLASH_COMMANDS)
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert all(len(c["description"]) <= 100 for c in manifest["features"]["slash_commands"])


def test_http_manifest_urls_point_at_the_route_the_server_serves() -> None:
    manifest = load(HTTP)
    settings = manifest["settings"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert urls and all(re.match(r"^https://[^/]+" + re.escape(EVENTS_PATH) + "$", u) for u in urls)
    assert settings["socket_mode_enabled"] is False


def test_socket_manifest_has_no_urls_and_enables_socket_mode() -> None:
    manifest = load(SOCKET)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


def test_server_routes_include_the_manifest_path() -> None:
    from bot.server import EVENTS_PATH as served

    assert served == EVENTS_PATH
