"""What the app registers, `bot.slack.registry` and the manifests in deploy/ say the same."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.app import BotIdentity, build_app
from bot.slack.registry import (
    ACTIONS,
    ASSISTANT_SCOPES,
    BOT_SCOPES,
    COMMANDS,
    EVENTS,
    EVENTS_PATH,
    FUNCTIONS,
    SHORTCUTS,
    bot_events,
)
from tests.asgi import build_runtime, call
from tests.fakeslack import FakeSlack

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
HTTP = DEPLOY / "slack-app-manifest.yaml"
SOCKET = DEPLOY / "slack-app-manifest.socket.yaml"

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "/brief": [{"command": "/brief", "text": "nato", "user_id": "U1", "channel_id": "C1"}],
    "app_mention": [
        {"type": "event_callback", "event": {"type": "app_mention", "user": "U1", "text": "x"}}
    ],
    "message.im": [
        {"type": "event_callback", "event": {"type": "message", "channel_type": "im", **extra}}
        for extra in ({}, {"subtype": "file_share"}, {"subtype": "thread_broadcast"})
    ],
    "app_home_opened": [
        {"type": "event_callback", "event": {"type": "app_home_opened", "tab": "home"}}
    ],
    "home_brief": [
        {"type": "block_actions", "actions": [{"action_id": "home_brief", "value": "x"}]}
    ],
    "brief_message": [{"type": "message_action", "callback_id": "brief_message", "message": {}}],
    "get_brief": [
        {
            "type": "event_callback",
            "event": {
                "type": "function_executed",
                "function": {"callback_id": "get_brief"},
                "function_execution_id": "Fx1",
            },
        }
    ],
    "share_brief|full_brief|download_brief|suggest_N": [
        {"type": "block_actions", "actions": [{"action_id": action_id, "value": "nato"}]}
        for action_id in ("share_brief", "full_brief", "download_brief", "suggest_1", "suggest_12")
    ],
}
"""Requests of every kind the registry names, by route name."""
OUTSIDE = [
    {"command": "/weather", "text": "", "user_id": "U1", "channel_id": "C1"},
    {"type": "event_callback", "event": {"type": "message", "channel_type": "channel"}},
    {"type": "event_callback", "event": {"type": "message", "subtype": "message_changed"}},
    {"type": "event_callback", "event": {"type": "reaction_added"}},
    {"type": "event_callback", "event": {"type": "app_home_opened", "tab": "messages"}},
    {
        "type": "event_callback",
        "event": {
            "type": "function_executed",
            "function": {"callback_id": "other_step"},
            "function_execution_id": "Fx2",
        },
    },
    {"type": "block_actions", "actions": [{"action_id": "suggest_x", "value": "nato"}]},
    {"type": "message_action", "callback_id": "delete_message", "message": {}},
]


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def app(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[AsyncApp]:
    runtime = build_runtime(fake_slack.base_url, tmp_path)
    try:
        yield build_app(runtime.services, BotIdentity("T1", "UBOT", "BBOT"))
    finally:
        runtime.close()


def matching(app: AsyncApp, body: dict[str, Any]) -> list[int]:
    """The positions of the app's listeners that take `body`."""

    async def matches() -> list[int]:
        found = []
        for position, listener in enumerate(app._async_listeners):
            request = AsyncBoltRequest(body=body, mode="socket_mode")
            if await listener.async_matches(req=request, resp=BoltResponse(status=200)):
                found.append(position)
        return found

    return asyncio.run(matches())


def test_each_listener_the_app_registers_takes_exactly_one_registry_route(app: AsyncApp) -> None:
    routes = {**COMMANDS, **EVENTS, **ACTIONS, **SHORTCUTS, **FUNCTIONS}
    assert sorted(SAMPLES) == sorted(routes)
    taken_by: dict[str, set[int]] = {}
    for name, bodies in SAMPLES.items():
        for body in bodies:
            (position,) = matching(app, body)
            taken_by.setdefault(name, set()).add(position)
    assert all(len(positions) == 1 for positions in taken_by.values()), taken_by
    assert sorted(p for (p,) in taken_by.values()) == list(range(len(app._async_listeners)))
    for body in OUTSIDE:
        assert matching(app, body) == [], body


@pytest.mark.parametrize("path", [HTTP, SOCKET], ids=["http", "socket"])
def test_manifest_declares_exactly_the_registry(path: Path) -> None:
    manifest = load(path)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert sorted(commands) == sorted(COMMANDS)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted(bot_events())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == sorted((*BOT_SCOPES, *ASSISTANT_SCOPES))
    shortcuts = manifest["features"]["shortcuts"]
    assert sorted(s["callback_id"] for s in shortcuts) == sorted(SHORTCUTS)
    assert all(s["type"] == "message" and len(s["name"]) <= 24 for s in shortcuts)
    functions = manifest.get("functions", {})
    assert sorted(functions) == sorted(FUNCTIONS)
    for function in functions.values():
        inputs, outputs = function["input_parameters"], function["output_parameters"]
        assert set(inputs["required"]) <= set(inputs["properties"])
        assert set(outputs["required"]) <= set(outputs["properties"])
    if functions:
        assert manifest["settings"]["function_runtime"] == "remote"
        assert manifest["settings"]["org_deploy_enabled"] is True
    assert ("assistant_view" in manifest["features"]) is bool(ASSISTANT_SCOPES)
    assert manifest["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in EVENTS)
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(ACTIONS)
    assert all(len(c["description"]) <= 100 for c in manifest["features"]["slash_commands"])


def test_http_manifest_urls_point_at_the_route_the_server_serves(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    from bot.server import create_http_app

    manifest = load(HTTP)
    settings = manifest["settings"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    paths = {re.sub(r"^https://[^/]+", "", u) for u in urls}
    runtime = build_runtime(fake_slack.base_url, tmp_path)
    try:
        served = create_http_app(runtime, identity=BotIdentity("T1", "UBOT", "BBOT"))
        # an unsigned POST reaches Slack's route (its signature check), not a 404
        statuses = {p: asyncio.run(call(served, p, [], [b"{}"])).status for p in paths}
        elsewhere = asyncio.run(call(served, "/slack/other", [], [b"{}"])).status
    finally:
        runtime.close()
    assert paths == {EVENTS_PATH} and statuses == {EVENTS_PATH: 401} and elsewhere == 404
    assert settings["socket_mode_enabled"] is False


def test_socket_manifest_has_no_urls_and_enables_socket_mode() -> None:
    manifest = load(SOCKET)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
