"""`briefbot review` and `/brief review`: the curator's worklist, most urgent first."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from bot.access import AccessPolicy, RequestContext
from bot.commands import CommandHandler
from bot.curate.review import ReviewReply
from bot.db import Database
from bot.db.gaps import GapStore
from bot.render import Renderer
from bot.slack.limits import check_message
from bot.slack.messages import MessageBuilder
from bot.state import KnowledgeHolder
from tests.conftest import TEMPLATES
from tests.curate.conftest import FIXTURES, cli

DOC = "nz-rok-minerals"


@pytest.fixture
def worked(seeds: Path) -> Path:
    """A page ingested, its working-group target (due December 2026) accepted with no topic,
    the rest left in the draft."""
    assert cli("ingest", str(FIXTURES / "rok-nz-critical-minerals.html"), "--id", DOC)[0] == 0
    assert cli("draft", DOC)[0] == 0
    draft = seeds / "drafts" / f"{DOC}.yaml"
    text = draft.read_text(encoding="utf-8")
    filed = re.sub(  # the curator files it under no topic, whatever the draft suggested
        r"(- id: arrangement-two-countries-establish-joint-working\n  topics:)(?:\n  - [a-z-]+)+",
        r"\1 []",
        text,
    )
    draft.write_text(filed, encoding="utf-8")
    code, out = cli("accept", DOC, "arrangement-two-countries-establish-joint-working")
    assert code == 0, out
    return seeds


def sections(out: str) -> dict[str, dict[str, object]]:
    return {s["id"]: s for s in json.loads(out)["sections"]}


def test_review_lists_the_work_most_urgent_first(worked: Path) -> None:
    code, out = cli("review", "--format", "json", "--today", "2028-02-01")
    assert code == 0
    found = sections(out)
    assert list(found) == ["lapsed", "stale", "gaps", "unattributed", "unused", "drafts"]
    lapsed = [i["what"] for i in found["lapsed"]["items"]]
    assert any(
        "'arrangement-two-countries-establish-joint-working': lapsed target" in w for w in lapsed
    )
    unused = [i["what"] for i in found["unused"]["items"]]
    fact = "fact 'arrangement-two-countries-establish-joint-working'"
    assert unused == [f"{fact}: used by no topic: no brief shows it"]
    stale = " ".join(i["what"] for i in found["stale"]["items"])
    assert "topic 'nato': its newest source (26 June 2025)" in stale
    assert found["unattributed"]["items"] == [], "the bundled seeds attribute every analysis"
    assert found["gaps"]["note"] == "knowledge gaps: no database configured"
    [draft] = found["drafts"]["items"]
    assert draft["where"] == f"seeds/drafts/{DOC}.yaml"
    assert draft["what"] == "4 candidate(s)"


def test_review_before_the_due_date_has_no_lapsed_target(worked: Path) -> None:
    _code, out = cli("review", "--format", "json", "--today", "2026-11-23")
    lapsed = " ".join(i["what"] for i in sections(out)["lapsed"]["items"])
    assert "arrangement-two-countries-establish-joint-working" not in lapsed


def test_review_shows_knowledge_gaps_with_the_topic_that_would_answer(
    worked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    database = Database(url)
    store = GapStore(database.engine)
    for _ in range(3):
        store.record(
            "koreaa minerals deal", channel_type="channel", outcome="not_found", best_score=0
        )
    store.close()
    database.dispose()
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", url)
    _code, out = cli("review", "--format", "json")
    [gap] = sections(out)["gaps"]["items"]
    assert gap["what"] == '3x "koreaa minerals deal" (not_found)'
    assert gap["action"].startswith('add "koreaa minerals deal" as an alias of rok')


def test_review_as_text_and_markdown(worked: Path) -> None:
    code, text = cli("review", "--today", "2028-02-01")
    assert code == 0
    assert text.startswith("Curator's review of fact base ")
    assert re.search(r"^Lapsed targets with no outcome \(\d+\)$", text, re.MULTILINE)
    assert "'arrangement-two-countries-establish-joint-working': lapsed target" in text
    assert f"seeds/drafts/{DOC}.yaml: 4 candidate(s)" in text
    code, markdown = cli("review", "--format", "markdown", "--today", "2028-02-01")
    assert re.search(r"^## Lapsed targets with no outcome \(\d+\)$", markdown, re.MULTILINE)


def test_slash_review_is_for_admins_only_and_fits_slack(worked: Path) -> None:
    handler = CommandHandler(
        KnowledgeHolder.load(worked),
        access=AccessPolicy(admin_users=frozenset({"UADMIN"})),
        today=lambda: dt.date(2028, 2, 1),  # a year after the bundled topics were reviewed
    )
    analyst = RequestContext(surface="slack", user_id="UANALYST")
    admin = RequestContext(surface="slack", user_id="UADMIN")
    assert handler.handle("review", analyst).kind == "error"
    reply = handler.handle("/brief review", admin)
    assert isinstance(reply, ReviewReply)
    assert reply.sections[2].note == "knowledge gaps: no database configured"
    assert any(c.usage == "/brief review" for c in handler.help(admin).commands)
    assert not any(c.usage == "/brief review" for c in handler.help(analyst).commands)
    payload = MessageBuilder(Renderer(TEMPLATES)).build(reply)
    assert check_message(payload) == []
    text = json.dumps(payload)
    assert "Topics past the staleness threshold" in text and "more: run `briefbot review`" in text
