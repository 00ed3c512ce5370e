"""The command table: every command on every surface (Slack, the console, the CLI).

Each surface calls the same `CommandHandler.handle`; what differs is who asks (a Slack user,
maybe an admin, or the operator at a terminal) and the prefix help and hints name.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.access import AccessPolicy, RequestContext
from bot.cli import EXIT_NOT_FOUND, EXIT_OK
from bot.commands import COMMANDS, CommandHandler, SnapshotMemo, parse_line, topic_rows
from bot.curate.review import ReviewReply
from bot.db import Database
from bot.db.gaps import GapStore
from bot.factbase import FactBase, load_factbase
from bot.render import TEXT, Renderer, reply_as_json
from bot.replies import (
    BriefReply,
    ErrorReply,
    NotFoundReply,
    Reply,
    SearchReply,
)
from bot.state import Knowledge, KnowledgeHolder, load_knowledge
from bot.status_replies import (
    AboutReply,
    GapsReply,
    HelpReply,
    ReloadOutcome,
    ReloadReply,
    TopicsReply,
    UpcomingReply,
)
from tests.conftest import SEEDS, TEMPLATES, cli
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

TODAY = dt.date(2026, 11, 23)
ADMIN, ANALYST = "UADMIN01", "UANALYST1"

SURFACES = {
    "slack-admin": RequestContext(surface="slack", user_id=ADMIN, channel_id="C0TEAM"),
    "slack-analyst": RequestContext(surface="slack", user_id=ANALYST, channel_id="C0TEAM"),
    "console": RequestContext(surface="console", prefix="/brief"),
    "cli": RequestContext(surface="cli", prefix="briefbot brief"),
}
ADMIN_ONLY = {"gaps", "reload", "review"}


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(SEEDS).require()


@pytest.fixture
def handler(knowledge: Knowledge, tmp_path: Path) -> Iterator[CommandHandler]:
    database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    gaps = GapStore(database.engine)
    gaps.record("koreaa minerals", channel_type="channel", outcome="not_found", best_score=0)
    yield CommandHandler(
        KnowledgeHolder(knowledge),
        today=lambda: TODAY,
        access=AccessPolicy(admin_users=frozenset({ADMIN})),
        gaps=gaps,
        reload=lambda: ReloadOutcome(True, knowledge.version),
    )
    gaps.close()
    database.dispose()


# What each command answers where it may run; `None`: refused on that surface or for that user.
EXPECTED: dict[str, tuple[str, type[Reply]]] = {
    "brief": ("nato", BriefReply),
    "full": ("full nato", BriefReply),
    "topics": ("topics", TopicsReply),
    "search": ("search wary", SearchReply),
    "upcoming": ("upcoming 30", UpcomingReply),
    "about": ("about", AboutReply),
    "gaps": ("gaps", GapsReply),
    "reload": ("reload", ReloadReply),
    "review": ("review", ReviewReply),
    "help": ("help", HelpReply),
}


def test_every_command_in_the_table_is_exercised_here() -> None:
    assert {c.name for c in COMMANDS} == set(EXPECTED)


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_command_on_every_surface(handler: CommandHandler, name: str, surface: str) -> None:
    line, kind = EXPECTED[name]
    reply = handler.handle(line, SURFACES[surface], today=TODAY)
    if name not in ADMIN_ONLY or surface == "slack-admin":
        assert isinstance(reply, kind), reply
    elif surface == "slack-analyst":
        assert reply == ErrorReply("Sorry, only Briefbot's admins can run that.")
    else:
        assert reply == ErrorReply(f"`{name}` works in Slack; here, run `briefbot {name}`.")


def test_full_gives_every_fact_and_brief_the_key_ones(
    handler: CommandHandler, factbase: FactBase
) -> None:
    for surface in SURFACES.values():
        full = handler.handle("full nato", surface)
        short = handler.handle("nato", surface)
        assert isinstance(full, BriefReply) and isinstance(short, BriefReply)
        assert len(full.brief.facts) == len(factbase.facts_for("nato"))
        assert len(short.brief.facts) == 8


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_help_is_generated_from_the_table_for_who_asks_where(
    handler: CommandHandler, surface: str
) -> None:
    ctx = SURFACES[surface]
    reply = handler.handle("help", ctx)
    assert isinstance(reply, HelpReply)
    offered = [c.usage.removeprefix(f"{ctx.prefix} ").split()[0] for c in reply.commands]
    admin = surface == "slack-admin"
    assert set(offered) == {
        EXPECTED_USAGE_WORD[name] for name in EXPECTED if admin or name not in ADMIN_ONLY
    }
    assert all(c.usage.startswith(f"{ctx.prefix} ") for c in reply.commands)


EXPECTED_USAGE_WORD = {name: name for name in EXPECTED} | {"brief": "TOPIC"}


@pytest.mark.parametrize("surface", ["console", "cli", "slack-analyst"])
def test_every_hint_names_a_command_that_works_there(handler: CommandHandler, surface: str) -> None:
    ctx = SURFACES[surface]
    renderer = Renderer(TEMPLATES)
    reply = handler.handle("nonsense qqq", ctx)
    assert isinstance(reply, NotFoundReply)
    text = renderer.render(reply.template, TEXT, **reply.context())
    hinted = re.findall(rf'"{re.escape(ctx.prefix)} ([^"]+)"', text)
    assert hinted, text
    for hint in hinted:
        line = hint.replace("WORDS", "wary")
        answer = handler.handle(line, ctx)
        assert not isinstance(answer, NotFoundReply | ErrorReply), (hint, answer)


def test_a_command_word_that_opens_a_question_is_a_topic_query(handler: CommandHandler) -> None:
    reply = handler.handle("topics of interest in the pacific?", SURFACES["console"])
    assert isinstance(reply, BriefReply) and reply.brief.topic_id == "pacific-security"


def test_a_command_missing_its_words_says_how_to_use_it(handler: CommandHandler) -> None:
    assert handler.handle("search", SURFACES["cli"]) == ErrorReply(
        "Usage: briefbot brief search WORDS"
    )
    assert handler.handle("full", SURFACES["console"]) == ErrorReply("Usage: /brief full TOPIC")


# --- the CLI goes through the same table -------------------------------------------------------


def test_cli_brief_full_gives_every_fact_as_the_console_does(
    default_settings: None, factbase: FactBase
) -> None:
    code, out = cli("brief", "full", "nato", "--today", TODAY.isoformat())
    assert code == EXIT_OK
    numbered = re.findall(r"^(\d+)\. ", out, flags=re.MULTILINE)
    assert len(numbered) == len(factbase.facts_for("nato"))


def test_cli_brief_topics_lists_the_topics(default_settings: None, factbase: FactBase) -> None:
    code, out = cli("brief", "topics")
    assert code == EXIT_OK
    assert "No topic matches" not in out
    for topic_id in factbase.topics:
        assert topic_id in out


def test_cli_brief_help_is_help_not_a_brief(default_settings: None) -> None:
    code, out = cli("brief", "help")
    assert code == EXIT_OK
    assert out.startswith("Briefbot answers with short briefs")
    assert "briefbot brief topics" in out and "PACIFIC" not in out


def test_cli_json_has_one_form_per_reply(default_settings: None) -> None:
    code, out = cli("brief", "about", "--format", "json")
    assert code == EXIT_OK
    document = reply_as_json_from(out)
    assert document["kind"] == "about" and document["facts"] > 100
    code, out = cli("brief", "nonsense", "qqq", "--format", "json")
    assert code == EXIT_NOT_FOUND
    assert reply_as_json_from(out)["error"] == "not_found"


def reply_as_json_from(text: str) -> dict[str, object]:
    import json

    document = json.loads(text)
    assert isinstance(document, dict)
    return document


def test_reply_as_json_serves_every_kind(handler: CommandHandler) -> None:
    import json

    for name, (line, _kind) in EXPECTED.items():
        reply = handler.handle(line, SURFACES["slack-admin"], today=TODAY)
        json.dumps(reply_as_json(reply))  # plain JSON for every reply
        assert reply_as_json(reply), name


# --- one snapshot: a reload never mixes two versions --------------------------------------------

RULES = """- id: first
  kind: anniversary
  fact: {fact}
  title: the {label} event
"""


def _version(root: Path, label: str) -> Knowledge:
    facts = fact_yaml(f"{label}1", date="2021-03-03", statement=f"The {label} ministers met.")
    topics = topics_yaml("alpha", f"only{label}", summary_fact=f"{label}1")
    seeds = make_seeds(root / label, facts=facts, topics=topics)
    (seeds / "reminders.yaml").write_text(RULES.format(fact=f"{label}1", label=label))
    return load_knowledge(seeds).require()


def test_a_reload_while_requests_run_never_mixes_versions(tmp_path: Path) -> None:
    versions = {"a": _version(tmp_path, "a"), "b": _version(tmp_path, "b")}
    holder = KnowledgeHolder(versions["a"])
    handler = CommandHandler(holder, today=lambda: dt.date(2026, 3, 1))
    stop = threading.Event()
    mixed: list[str] = []
    answered = [0]

    def ask() -> None:
        while not stop.is_set():
            reply = handler.handle("alpha")
            assert isinstance(reply, BriefReply)
            label = reply.brief.facts[0].id[0]
            upcoming = " ".join(item.label for item in reply.brief.upcoming)
            if f"the {label} event" not in upcoming:
                mixed.append(f"facts of {label} with {upcoming!r}")
            answered[0] += 1

    askers = [threading.Thread(target=ask) for _ in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so swaps land mid-brief
    try:
        for thread in askers:
            thread.start()
        before = answered[0]
        swap = 0
        while answered[0] - before < 50 and swap < 5_000_000:  # swap while briefs are composed
            swap += 1
            holder.replace(versions["ab"[swap % 2]])
        during = answered[0] - before
        stop.set()
        for thread in askers:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert during > 0, "no brief was composed while the snapshots were being swapped"
    assert mixed == []


def test_the_topic_list_is_made_once_per_snapshot_and_never_lent_to_another(
    tmp_path: Path,
) -> None:
    a, b = _version(tmp_path, "a"), _version(tmp_path, "b")
    store = SnapshotMemo()
    first = store.topic_rows(a)
    assert first == topic_rows(a) and [r.id for r in first] == ["alpha", "onlya"]
    assert store.topic_rows(a) is first
    assert [r.id for r in store.topic_rows(b)] == ["alpha", "onlyb"]
    again = store.topic_rows(a)
    assert again == first and again is not first  # b's snapshot replaced what was kept for a


def test_resolutions_are_kept_per_snapshot_the_most_recent_first(tmp_path: Path) -> None:
    a, b = _version(tmp_path, "a"), _version(tmp_path, "b")
    memo = SnapshotMemo(resolutions=2)
    first = memo.resolution(a, "onlya")
    assert first == a.resolver.resolve("onlya") and first.topic_id == "onlya"
    assert memo.resolution(a, "onlya") is first
    memo.resolution(a, "alpha")
    memo.resolution(a, "the alpha")  # two kept at most: "onlya" is the one dropped
    assert memo.resolution(a, "onlya") is not first
    in_b = memo.resolution(b, "onlya")
    assert in_b == b.resolver.resolve("onlya") and in_b.topic_id == "onlyb"
    long = "alpha " * 100
    assert memo.resolution(b, long) is not memo.resolution(b, long)  # past MAX_QUERY_CHARS


def test_the_snapshot_carries_the_rules_of_its_own_fact_base(tmp_path: Path) -> None:
    knowledge = _version(tmp_path, "a")
    assert [r.id for r in knowledge.schedule.rules] == ["first"]
    assert knowledge.schedule.rules[0].fact_id == "a1"
    assert knowledge.version == knowledge.factbase.version
    assert load_factbase(tmp_path / "a" / "seeds").require().version == knowledge.version


def test_only_the_commands_that_read_the_database_or_reload_are_run_off_the_event_loop() -> None:
    blocking = [t for t in ("gaps", "reload", "review", "/brief gaps") if parse_line(t).blocks]
    quick = ("nato", "help", "", "topics", "full rok", "search defence", "upcoming 10")
    assert blocking == ["gaps", "reload", "review", "/brief gaps"]
    assert not any(parse_line(t).blocks for t in quick)
