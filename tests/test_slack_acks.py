"""When Slack gets its HTTP answer (`bot.slack.acks`): a slash command's answer is the
acknowledgement itself; an event is acknowledged before its reply is posted. Ordering is observed
through the HTTP response and the fake Slack holding its answer, never by timing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.work import EventWork
from tests.asgi import Bot, make_bot, settle
from tests.fakeslack import FakeSlack
from tests.slackreq import all_text, slash_form


@pytest.fixture
def bot(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    yield from make_bot(fake_slack, tmp_path)


def mention(text: str, ts: str) -> dict[str, object]:
    return {
        "type": "app_mention",
        "user": "U0ASKER",
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": "C0CHAN1",
        "event_ts": ts,
    }


def test_an_event_is_acknowledged_before_its_reply_is_posted(bot: Bot) -> None:
    bot.slack.hold("chat.postMessage")

    async def scenario() -> None:
        result = await bot.event(mention("nato", "1700000100.000100"), "EvAck1")
        # Slack has its 200 while the reply's post is, at best, still waiting for its answer.
        assert result.status == 200
        assert bot.slack.answered("chat.postMessage") == 0
        bot.slack.release("chat.postMessage")
        await settle()

    asyncio.run(scenario())
    (post,) = bot.slack.posts()
    assert post.status == 200
    assert "NATO" in all_text(post.body["blocks"])
    assert bot.slack.answered("chat.postMessage") == 1


def test_events_are_acknowledged_while_many_replies_wait_on_slack(bot: Bot) -> None:
    bot.slack.hold("chat.postMessage")

    async def scenario() -> list[int]:
        events = [mention("rok", f"1700000200.{n:06d}") for n in range(40)]
        results = await asyncio.gather(
            *(bot.event(event, f"EvMany{n}") for n, event in enumerate(events))
        )
        assert bot.slack.answered("chat.postMessage") == 0
        bot.slack.release("chat.postMessage")
        await settle()
        return [r.status for r in results]

    assert asyncio.run(scenario()) == [200] * 40
    assert len(bot.slack.messages("C0CHAN1")) == 40


def test_a_slash_command_is_answered_in_its_acknowledgement(bot: Bot) -> None:
    (result,) = bot.run(bot.post(slash_form("nato", response_url=bot.slack.response_url())))
    assert result.status == 200
    assert "NATO" in all_text(result.json()["blocks"])
    assert bot.slack.responses() == [] and bot.slack.posts() == []


def test_work_after_the_ack_runs_a_bounded_number_at_once_and_drains() -> None:
    async def scenario() -> tuple[int, int, int]:
        work = EventWork(limit=3)
        running = most = done = 0
        gate = asyncio.Event()

        async def reply() -> None:
            nonlocal running, most, done
            running += 1
            most = max(most, running)
            await gate.wait()
            running -= 1
            done += 1

        for _ in range(10):
            work.submit(reply())
        await asyncio.sleep(0)
        gate.set()
        left = await work.drain(timeout=5)
        return most, done, left

    assert asyncio.run(scenario()) == (3, 10, 0)


def test_a_drain_that_runs_out_of_time_says_how_many_were_left_and_cancels_them() -> None:
    async def scenario() -> tuple[int, int]:
        work = EventWork(limit=2)
        for _ in range(3):
            work.submit(asyncio.sleep(3600))
        left = await work.drain(timeout=0.05)
        await asyncio.sleep(0)
        return left, work.pending

    assert asyncio.run(scenario()) == (3, 0)
