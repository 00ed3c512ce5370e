"""Scenario tests of the surfaces beyond `/brief`, mentions and DMs, in-process: the App Home, the
"Brief me on this" message shortcut, the assistant panel and the Workflow Builder step. Signed
requests through the real Starlette and Bolt apps, the fake Slack Web API over HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.home import HOME_TTL_SECONDS, refresh_home
from tests.asgi import Bot, make_bot
from tests.fakeslack import FakeSlack
from tests.slackreq import all_text

ADMIN = "U0ADMIN"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path, seeds: Path) -> Iterator[Bot]:
    yield from make_bot(fake_slack, tmp_path, admin_users=frozenset({ADMIN}), seeds_dir=seeds)
    assert fake_slack.limit_violations == []
    assert fake_slack.server_errors == []


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def home_opened(user: str = "U0USER1", tab: str = "home") -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0DM1",
        "tab": tab,
        "event_ts": "1.1",
    }


def published(bot: Bot) -> list[dict[str, Any]]:
    return [c.body for c in bot.slack.calls("views.publish") if c.response.get("ok")]


# -- App Home ------------------------------------------------------------------------------------


def test_opening_the_home_tab_publishes_topics_reminders_and_the_fact_base_age(bot: Bot) -> None:
    (result,) = bot.run(bot.event(home_opened(), "EvHome1"))
    assert result.status == 200
    (call,) = published(bot)
    assert call["user_id"] == "U0USER1"
    view = call["view"]
    assert view["type"] == "home"
    text = all_text(view["blocks"])
    fb = bot.runtime.knowledge.current.factbase
    assert fb.version[:8] in text and "as of *" in text
    assert "Brief me on this" in text and "Workflow Builder" in text and "assistant" in text
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert {b["value"] for b in buttons} == set(fb.topics)
    assert {b["action_id"] for b in buttons} == {"home_brief"}
    nato = next(b for b in view["blocks"] if b.get("accessory", {}).get("value") == "nato")
    assert "New Zealand and NATO" in nato["text"]["text"]
    assert fb.topics["nato"].summary[0].text[:60] in nato["text"]["text"]
    assert "For admins" not in text


def test_admins_see_the_gaps_and_the_worklist_size(bot: Bot) -> None:
    bot.runtime.services.handler.brief("zzqx weather forecast")
    bot.runtime.gaps.flush()
    bot.run(bot.event(home_opened(ADMIN), "EvHome2"))
    (call,) = published(bot)
    text = all_text(call["view"]["blocks"])
    assert "For admins" in text and "Curator's worklist" in text
    assert "zzqx weather forecast" in text


def test_the_home_is_published_at_most_once_a_minute_per_user_and_version(bot: Bot) -> None:
    clock = Clock()
    bot.runtime.services.home.clock = clock
    bot.run(bot.event(home_opened(), "EvH1"), bot.event(home_opened(), "EvH2"))
    assert len(published(bot)) == 1
    bot.run(bot.event(home_opened("U0OTHER"), "EvH3"))
    assert len(published(bot)) == 2
    clock.now += HOME_TTL_SECONDS
    bot.run(bot.event(home_opened(), "EvH4"))
    assert len(published(bot)) == 3


def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    (result,) = bot.run(bot.event(home_opened(tab="messages"), "EvHome5"))
    assert result.status == 200
    assert bot.slack.calls("views.publish") == []


def test_a_reload_with_a_new_version_refreshes_every_home_at_once(bot: Bot, seeds: Path) -> None:
    bot.runtime.services.home.clock = Clock()  # time stands still: only a new version publishes
    bot.run(bot.event(home_opened(), "EvR1"), bot.event(home_opened(ADMIN), "EvR2"))
    assert refresh_home(bot.runtime.services) == 0  # same version: nothing to publish
    topics = seeds / "topics.yaml"
    topics.write_text(topics.read_text().replace("New Zealand and NATO", "NZ and NATO"))
    assert bot.runtime.reload().ok
    assert refresh_home(bot.runtime.services) == 2
    latest = published(bot)[-2:]
    assert {c["user_id"] for c in latest} == {"U0USER1", ADMIN}
    assert all("NZ and NATO" in all_text(c["view"]["blocks"]) for c in latest)


def test_a_refused_publish_is_tried_again_at_the_next_opening(bot: Bot) -> None:
    bot.runtime.services.home.clock = Clock()
    bot.slack.fail_next("views.publish", error="not_enabled")
    bot.run(bot.event(home_opened(), "EvF1"))
    bot.run(bot.event(home_opened(), "EvF2"))
    assert [c.response.get("ok") for c in bot.slack.calls("views.publish")] == [False, True]


def home_click(topic_id: str, user: str = "U0USER1") -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": "1.2.3",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [
            {
                "type": "button",
                "action_id": "home_brief",
                "block_id": "b",
                "value": topic_id,
                "action_ts": "1700000000.1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_a_topic_button_on_the_home_sends_the_brief_to_the_users_dm(bot: Bot) -> None:
    (result,) = bot.run(bot.post(home_click("rok")))
    assert result.status == 200
    (post,) = bot.slack.posts()
    assert post.body["channel"] == "U0USER1"
    assert post.body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"


@pytest.mark.parametrize("allow_dms,posts", [(True, 1), (False, 0)])
def test_a_home_button_follows_the_dm_policy_not_the_channel_list(
    fake_slack: FakeSlack, tmp_path: Path, allow_dms: bool, posts: int
) -> None:
    only = frozenset({"C0OK"})
    bot = next(make_bot(fake_slack, tmp_path, allowed_channels=only, allow_dms=allow_dms))
    try:
        (result,) = bot.run(bot.post(home_click("rok")))
    finally:
        bot.runtime.close()
    assert result.status == 200
    assert len(fake_slack.posts()) == posts


# -- "Brief me on this" ----------------------------------------------------------------------------


def message_action(
    bot: Bot, text: str, *, channel: str = "C0CHAN1", user: str = "U0USER1"
) -> bytes:
    payload = {
        "type": "message_action",
        "callback_id": "brief_message",
        "team": {"id": "T1"},
        "user": {"id": user},
        "channel": {"id": channel, "name": "policy-team"},
        "api_app_id": "A1",
        "trigger_id": "1.2.3",
        "action_ts": "1700000000.2",
        "message_ts": "1700000000.000100",
        "response_url": bot.slack.response_url("T1/shortcut"),
        "message": {"type": "message", "user": "U0ELSE", "text": text, "ts": "1700000000.000100"},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_brief_me_on_this_answers_the_user_alone_in_that_channel_with_share(bot: Bot) -> None:
    text = "Has anyone seen where the ITPP with NATO got to? <!channel>"
    (result,) = bot.run(bot.post(message_action(bot, text)))
    assert result.status == 200
    (call,) = bot.slack.calls("chat.postEphemeral")
    assert (call.body["channel"], call.body["user"]) == ("C0CHAN1", "U0USER1")
    assert call.body["blocks"][0]["text"]["text"] == "New Zealand and NATO"
    actions = [
        e["action_id"] for b in call.body["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "share_brief" in actions
    assert bot.slack.posts() == [] and bot.slack.responses() == []


def test_brief_me_on_this_on_a_message_matching_nothing_offers_three_suggestions(bot: Bot) -> None:
    bot.run(bot.post(message_action(bot, "zzqx weather tomorrow")))
    (call,) = bot.slack.calls("chat.postEphemeral")
    assert "No topic matches" in all_text(call.body["blocks"])
    buttons = [e for b in call.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 3


def test_brief_me_on_this_looks_words_up_and_never_runs_them_as_commands(bot: Bot) -> None:
    bot.run(bot.post(message_action(bot, "reload", user=ADMIN)))
    (call,) = bot.slack.calls("chat.postEphemeral")
    assert "reloaded" not in all_text(call.body).lower()
    bot.slack.reset()
    bot.run(bot.post(message_action(bot, "")))
    (call,) = bot.slack.calls("chat.postEphemeral")
    assert "no text to look up" in call.body["text"]


def test_brief_me_on_this_where_the_bot_is_not_falls_back_to_the_response_url(bot: Bot) -> None:
    bot.slack.fail_next("chat.postEphemeral", error="channel_not_found")
    bot.run(bot.post(message_action(bot, "rok", channel="C0PRIVATE")))
    (answer,) = bot.slack.responses()
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"


def test_brief_me_on_this_follows_the_access_policy(fake_slack: FakeSlack, tmp_path: Path) -> None:
    bot = next(make_bot(fake_slack, tmp_path, allowed_channels=frozenset({"C0OK"})))
    try:
        (result,) = bot.run(bot.post(message_action(bot, "nato", channel="C0ELSEWHERE")))
    finally:
        bot.runtime.close()
    assert result.status == 200
    assert fake_slack.calls("chat.postEphemeral") == []
    (answer,) = fake_slack.responses()
    assert "C0OK" in all_text(answer.body)
