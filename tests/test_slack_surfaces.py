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
from tests.slackreq import all_text, slash_form

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
    before = len(published(bot))
    assert bot.runtime.reload().ok  # the reload republishes every Home it knows (after_swap)
    assert len(published(bot)) == before + 2
    assert refresh_home(bot.runtime.services) == 0  # and nothing is left to publish
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


# -- "Brief me on this" --------------------------------------------------------------------------


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


# -- the assistant panel ------------------------------------------------------------------------

THREAD = "1700000300.000100"


def thread_started() -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U0USER1",
            "context": {"channel_id": "C0CHAN1", "team_id": "T1", "enterprise_id": None},
            "channel_id": "D0DM1",
            "thread_ts": THREAD,
        },
        "event_ts": "1700000300.000200",
    }


def in_thread(text: str, ts: str = "1700000301.000100") -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "user": "U0USER1",
        "text": text,
        "ts": ts,
        "thread_ts": THREAD,
        "channel": "D0DM1",
        "event_ts": ts,
    }


def test_a_new_assistant_thread_gets_a_greeting_and_suggested_prompts(bot: Bot) -> None:
    (result,) = bot.run(bot.event(thread_started(), "EvA1"))
    assert result.status == 200
    (greeting,) = bot.slack.posts()
    assert (greeting.body["channel"], greeting.body["thread_ts"]) == ("D0DM1", THREAD)
    (call,) = bot.slack.calls("assistant.threads.setSuggestedPrompts")
    prompts = call.body["prompts"]
    assert (call.body["channel_id"], call.body["thread_ts"]) == ("D0DM1", THREAD)
    assert prompts[-1] == {"title": "What's coming up?", "message": "upcoming"}
    fb = bot.runtime.knowledge.current.factbase
    sizes = sorted((len(fb.facts_for(t)) for t in fb.topics), reverse=True)
    assert [len(fb.facts_for(p["message"])) for p in prompts[:-1]] == sizes[:3]


def test_a_message_in_an_assistant_thread_gets_the_brief_there_and_titles_the_thread(
    bot: Bot,
) -> None:
    bot.run(bot.event(in_thread("what's the latest on the ITPP?"), "EvA2"))
    (post,) = bot.slack.posts()
    assert (post.body["channel"], post.body["thread_ts"]) == ("D0DM1", THREAD)
    assert post.body["blocks"][0]["text"]["text"] == "New Zealand and NATO"
    (title,) = bot.slack.calls("assistant.threads.setTitle")
    assert title.body["title"] == "New Zealand and NATO"
    assert title.body["thread_ts"] == THREAD


def test_the_upcoming_prompt_lists_what_is_coming_up_in_the_thread(bot: Bot) -> None:
    bot.run(bot.event(in_thread("upcoming"), "EvA3"))
    (post,) = bot.slack.posts()
    assert post.body["thread_ts"] == THREAD
    assert bot.slack.calls("assistant.threads.setTitle") == []


def test_without_the_assistant_feature_a_thread_is_still_answered(bot: Bot) -> None:
    bot.slack.always_fail("assistant.threads.setTitle", error="not_allowed_token_type")
    bot.slack.always_fail("assistant.threads.setSuggestedPrompts", error="not_allowed_token_type")
    bot.run(bot.event(in_thread("rok"), "EvA4"), bot.event(thread_started(), "EvA5"))
    answers = [p for p in bot.slack.posts() if p.body.get("blocks")]
    assert answers[0].body["blocks"][0]["text"]["text"] == "New Zealand and the Republic of Korea"
    assert len(bot.slack.calls("assistant.threads.setTitle")) == 1


# -- the Workflow Builder step ------------------------------------------------------------------


def function_executed(query: str, execution: str = "Fx1") -> dict[str, Any]:
    return {
        "type": "function_executed",
        "function": {"id": "Fn1", "callback_id": "get_brief", "title": "Get a brief"},
        "inputs": {"query": query},
        "function_execution_id": execution,
        "workflow_execution_id": "Wx1",
        "event_ts": "1700000400.1",
        "bot_access_token": "xwfp-test-workflow-token",
    }


def test_the_workflow_step_completes_with_the_brief_its_date_and_sources(bot: Bot) -> None:
    (result,) = bot.run(bot.event(function_executed("rok"), "EvW1"))
    assert result.status == 200
    (call,) = bot.slack.calls("functions.completeSuccess")
    assert call.headers["Authorization"] == "Bearer xwfp-test-workflow-token"
    assert call.body["function_execution_id"] == "Fx1"
    outputs = call.body["outputs"]
    assert outputs["brief"].startswith("*New Zealand and the Republic of Korea*")
    assert "[1]" in outputs["brief"]
    brief = bot.runtime.services.handler.brief_for_topic("rok", query="rok", resolved_by="alias")
    assert outputs["as_of"] == brief.brief.as_of_label  # type: ignore[union-attr]
    assert outputs["sources"] and all(u.startswith("http") for u in outputs["sources"])
    assert bot.slack.calls("functions.completeError") == []


def test_the_workflow_step_fails_clearly_when_nothing_matches(bot: Bot) -> None:
    bot.run(bot.event(function_executed("zzqx weather"), "EvW2"))
    (call,) = bot.slack.calls("functions.completeError")
    assert call.body["function_execution_id"] == "Fx1"
    assert call.body["error"].startswith("No topic matches “zzqx weather”. Closest topics: ")
    bot.run(bot.event(function_executed("   ", "Fx2"), "EvW3"))
    assert (
        "needs a topic or a question"
        in bot.slack.calls("functions.completeError")[-1].body["error"]
    )
    assert bot.slack.calls("functions.completeSuccess") == []


def test_help_in_slack_names_the_other_ways_in(bot: Bot) -> None:
    (result,) = bot.run(bot.post(slash_form("help", response_url=bot.slack.response_url())))
    text = all_text(result.json()["blocks"])
    for way in ("Brief me on this", "assistant panel", "Get a brief", "Home tab"):
        assert way in text
