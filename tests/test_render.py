"""Rendering briefs: text snapshots, Markdown, and Block Kit payloads within Slack's limits.

The text snapshots live in tests/snapshots/. After an intended change to a template or to the
seeds, rewrite them with `BRIEFBOT_UPDATE_SNAPSHOTS=1 pytest tests/test_render.py` and review the
diff like code.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.brief import DEFAULT_KEY_FACTS
from bot.cli import main
from bot.commands import CommandHandler
from bot.factbase import FactBase, load_factbase
from bot.render import BLOCKS, MARKDOWN, MRKDWN, TEXT, Renderer
from bot.replies import BriefReply
from bot.slack.limits import MAX_BLOCKS, check_message
from bot.slack.messages import MessageBuilder
from bot.state import Knowledge, KnowledgeHolder
from tests.conftest import TEMPLATES, clear_settings
from tests.seedkit import fact_yaml, make_seeds, topics_yaml

TODAY = dt.date(2026, 11, 23)
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_SNAPSHOTS = "BRIEFBOT_UPDATE_SNAPSHOTS"


def assert_matches_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/NAME exactly, or rewrite it when asked to."""
    path = SNAPSHOTS / name
    if os.environ.get(UPDATE_SNAPSHOTS) == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"no snapshot {path}: run with {UPDATE_SNAPSHOTS}=1 to write it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its snapshot; if the change is intended, run with "
        f"{UPDATE_SNAPSHOTS}=1 and review the diff"
    )


@pytest.fixture(autouse=True)
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads settings from the environment: use the defaults (the bundled seeds)."""
    clear_settings(monkeypatch, keep=(UPDATE_SNAPSHOTS,))


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def handler_for(factbase: FactBase) -> CommandHandler:
    return CommandHandler(KnowledgeHolder(Knowledge.build(factbase)), today=lambda: TODAY)


def brief_reply(handler: CommandHandler, topic_id: str, *, full: bool = False) -> BriefReply:
    reply = handler.brief_for_topic(topic_id, query=topic_id, resolved_by="alias", full=full)
    assert isinstance(reply, BriefReply)
    return reply


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object (plain_text or mrkdwn) anywhere in a payload."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def keys_anywhere(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys_anywhere(v)}
    if isinstance(node, list):
        return {k for item in node for k in keys_anywhere(item)}
    return set()


# --- text and Markdown -------------------------------------------------------------------------


@pytest.mark.parametrize("topic_id", ["nato", "rok", "pacific-security"])
def test_text_brief_matches_its_snapshot(topic_id: str) -> None:
    code, out = cli("brief", topic_id, "--today", TODAY.isoformat())
    assert code == 0
    assert_matches_snapshot(f"brief_{topic_id}.txt", out)


def test_text_brief_reads_top_down_with_cited_facts_and_sources(
    factbase: FactBase, renderer: Renderer
) -> None:
    reply = brief_reply(handler_for(factbase), "nato")
    text = renderer.render("brief", TEXT, **reply.context())
    lines = text.splitlines()
    assert lines[0] == factbase.topics["nato"].title.upper()
    headings = [h for h in ("KEY FACTS", "TIMELINE", "SOURCES") if h in lines]
    assert headings == ["KEY FACTS", "TIMELINE", "SOURCES"]
    numbered = [int(m.group(1)) for line in lines if (m := re.match(r"(\d+)\. ", line))]
    assert numbered == list(range(1, DEFAULT_KEY_FACTS + 1))
    assert f"{reply.brief.omitted} more facts: use --full" in lines
    for source in reply.brief.sources:
        assert any(line.startswith(f"[{source.n}] {source.title}.") for line in lines)
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_stale_brief_says_so_at_the_top(factbase: FactBase, renderer: Renderer) -> None:
    reply = brief_reply(handler_for(factbase), "nato")
    assert reply.brief.stale
    second_line = renderer.render("brief", TEXT, **reply.context()).splitlines()[1]
    assert second_line.startswith("!! Possibly out of date: ")
    assert "stated more than 365 days ago" in second_line


def test_markdown_brief_has_headings_quotes_a_timeline_table_and_linked_sources(
    factbase: FactBase, renderer: Renderer
) -> None:
    reply = brief_reply(handler_for(factbase), "rok")
    md = renderer.render("brief", MARKDOWN, **reply.context())
    assert md.startswith(f"# {factbase.topics['rok'].title}\n")
    for heading in ("## Key facts", "## Timeline", "## Sources"):
        assert f"\n{heading}\n" in md
    assert "| Date | What | Sources |" in md
    assert md.count("\n  > [") >= DEFAULT_KEY_FACTS
    linked = [s for s in reply.brief.sources if s.url]
    assert linked, "the bundled ROK sources have URLs"
    for source in reply.brief.sources:
        shown = f"[{source.title}]({source.url})" if source.url else source.title
        assert f"{source.n}. {shown}. {source.publisher}" in md


def test_markdown_table_cells_escape_pipes(tmp_path: Path, renderer: Renderer) -> None:
    facts = fact_yaml("f1", statement='"Either this | or that."')
    factbase = load_factbase(make_seeds(tmp_path, facts=facts)).require()
    md = renderer.render("brief", MARKDOWN, **brief_reply(handler_for(factbase), "alpha").context())
    assert "| Either this \\| or that. |" in md


def test_mrkdwn_brief_renders_in_full_and_short(factbase: FactBase, renderer: Renderer) -> None:
    reply = brief_reply(handler_for(factbase), "rok")
    full = renderer.render("brief", MRKDWN, **reply.context())
    short = renderer.render("brief", MRKDWN, short=True, **reply.context())
    assert full.startswith(f"*{factbase.topics['rok'].title}*")
    assert short in full
    assert len(re.findall(r"\n\d+\. ", full)) == DEFAULT_KEY_FACTS
    assert not re.search(r"\n\d+\. ", short)


def test_every_template_compiles(renderer: Renderer) -> None:
    assert renderer.check() == []


def test_a_templates_globals_are_its_own_and_keep_jinjas_defaults(tmp_path: Path) -> None:
    """Each template gets its own copy of the globals when loaded: Jinja2's defaults are there,
    and a change to one template's globals reaches neither the environment nor another."""
    (tmp_path / "one.txt.j2").write_text("{{ range(3) | list }} {{ extra | default('none') }}")
    (tmp_path / "two.txt.j2").write_text("{{ extra | default('none') }}")
    renderer = Renderer(tmp_path)
    env = renderer._envs[TEXT]
    one = env.get_template("one.txt.j2")
    one.globals["extra"] = "mine"
    assert renderer.render("one", TEXT).strip() == "[0, 1, 2] mine"
    assert renderer.render("two", TEXT).strip() == "none"
    assert "extra" not in env.globals


def test_check_compiles_each_template_in_every_format_that_renders_it(
    tmp_path: Path, factbase: FactBase
) -> None:
    """After `check` (which start-up runs) a brief renders in every format without compiling:
    with the clock still, the templates are not looked at again, so deleting them shows what
    was compiled."""
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    still = Renderer(tmp_path / "templates", clock=lambda: 0.0)
    assert still.check() == []
    shutil.rmtree(tmp_path / "templates")
    reply = brief_reply(handler_for(factbase), "nato")
    for fmt in (TEXT, MARKDOWN, MRKDWN):
        assert "NATO" in still.render(reply.template, fmt, **reply.context())
    assert "NATO" in still.render_as_mrkdwn(reply.template, **reply.context())
    assert still.render_blocks(reply.template, **reply.context())


# --- Block Kit ------------------------------------------------------------------------------


def payload_for(
    renderer: Renderer, handler: CommandHandler, reply: BriefReply, **options: Any
) -> dict[str, Any]:
    return MessageBuilder(renderer).build(reply, **options)


@pytest.mark.parametrize("full", [False, True])
def test_every_topic_builds_a_payload_within_slack_limits(
    factbase: FactBase, renderer: Renderer, full: bool
) -> None:
    handler = handler_for(factbase)
    for topic_id in sorted(factbase.topics):
        payload = payload_for(renderer, handler, brief_reply(handler, topic_id, full=full))
        assert check_message(payload) == [], topic_id
        assert "link_names" not in keys_anywhere(payload)
        json.dumps(payload)  # plain JSON, as it is sent


def test_largest_topic_in_full_within_slack_limits_also_when_shared(
    factbase: FactBase, renderer: Renderer
) -> None:
    handler = handler_for(factbase)
    largest = max(sorted(factbase.topics), key=lambda t: len(factbase.facts_for(t)))
    reply = brief_reply(handler, largest, full=True)
    for options in ({"interactive": False}, {"shared_by": "U0123ABCD"}):
        payload = payload_for(renderer, handler, reply, **options)
        assert check_message(payload) == [], options


def test_every_mrkdwn_text_object_is_verbatim(factbase: FactBase, renderer: Renderer) -> None:
    handler = handler_for(factbase)
    for topic_id in ("nato", "rok"):
        payload = payload_for(renderer, handler, brief_reply(handler, topic_id, full=True))
        mrkdwn = [t for t in text_objects(payload["blocks"]) if t["type"] == "mrkdwn"]
        assert mrkdwn
        assert all(t.get("verbatim") is True for t in mrkdwn)


def test_facts_in_a_payload_carry_their_citations_and_quotes(
    factbase: FactBase, renderer: Renderer
) -> None:
    handler = handler_for(factbase)
    reply = brief_reply(handler, "rok")
    payload = payload_for(renderer, handler, reply)
    texts = [t["text"] for t in text_objects(payload["blocks"])]
    for fact in reply.brief.facts:
        (section,) = [
            t
            for t in texts
            if re.match(r"\d+\. ", t)
            and f"[{fact.quotes[0].n}] “" in t
            and fact.statement[:40].replace("&", "&amp;") in t
            and fact.quotes[0].text[:40].replace("&", "&amp;") in t
        ]
        assert "".join(f"[{n}]" for n in fact.citations) in section
    assert f"{reply.brief.omitted} more facts: use *Full brief*" in texts
    actions = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "share_brief",
        "download_brief",
        "full_brief",
    ]


def _long_topic(tmp_path: Path, count: int) -> FactBase:
    statement = " ".join(["A long statement about fisheries patrols and cyber security."] * 12)
    facts = "".join(
        fact_yaml(
            f"f{i}",
            statement=statement,
            date=f"2021-03-{1 + i % 28:02d}",
            extra="also:\n  - source: doc-one\n    quote: The plan covers\n",
        )
        for i in range(1, count + 1)
    )
    return load_factbase(make_seeds(tmp_path, facts=facts, topics=topics_yaml("alpha"))).require()


def test_a_topic_too_long_for_one_message_is_cut_with_a_visible_count(
    tmp_path: Path, renderer: Renderer
) -> None:
    factbase = _long_topic(tmp_path, 300)
    handler = handler_for(factbase)
    reply = brief_reply(handler, "alpha", full=True)
    payload = payload_for(renderer, handler, reply)
    assert check_message(payload) == []
    assert len(payload["blocks"]) <= MAX_BLOCKS
    shown = sum(
        1
        for b in payload["blocks"]
        if b["type"] == "section" and re.match(r"\d+\. ", b["text"]["text"])
    )
    assert 0 < shown < 300
    notes = [t["text"] for t in text_objects(payload["blocks"]) if "more facts" in t["text"]]
    assert notes == [
        f"{300 - shown} more facts did not fit in one Slack message: "
        "use `/brief search WORDS` to find any fact"
    ]
    buttons = [
        e["action_id"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [
        "share_brief",
        "download_brief",
    ]  # no "Full brief" button on a brief that is already full


def test_a_short_brief_cut_to_fit_offers_the_full_brief(tmp_path: Path, renderer: Renderer) -> None:
    factbase = _long_topic(tmp_path, 300)
    handler = handler_for(factbase)
    payload = payload_for(renderer, handler, brief_reply(handler, "alpha"))
    assert check_message(payload) == []
    notes = [t["text"] for t in text_objects(payload["blocks"]) if "more facts" in t["text"]]
    assert len(notes) == 1 and notes[0].endswith(" more facts: use *Full brief*")


def test_block_kit_template_renders_without_the_optional_variables(
    factbase: FactBase, renderer: Renderer
) -> None:
    reply = brief_reply(handler_for(factbase), "nato")
    blocks = renderer.render_blocks("brief", **reply.context())
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["type"] == "actions"  # interactive unless told otherwise
    assert renderer.render("brief", BLOCKS, **reply.context()).startswith("[")


def test_clip_escaped_never_cuts_an_entity_in_half() -> None:
    from bot.text import clip_escaped

    assert clip_escaped("abc", 3) == "abc"
    assert clip_escaped("ab&amp;cd", 5) == "ab…"
    assert clip_escaped("abcd&lt;", 6) == "abcd…"
    assert clip_escaped("a&gt;bcdef", 7) == "a&gt;b…"


def test_an_id_ending_in_a_newline_is_neither_a_mention_nor_a_channel_link(
    renderer: Renderer,
) -> None:
    """Slack ids match in full (`bot.ids`): "U0ABC\\n" is shown as text, not as `<@U0ABC\\n>`."""
    env = renderer._envs[MRKDWN]  # the filters as templates see them
    assert env.from_string("{{ u | mention }}").render(u="U0ABC") == "<@U0ABC>"
    assert env.from_string("{{ u | mention }}").render(u="U0ABC\n") == "U0ABC\n"
    assert env.from_string("{{ c | channel }}").render(c="C0ABC\n") == "C0ABC\n"


def test_clip_keeps_short_text_and_ends_cut_text_in_an_ellipsis() -> None:
    from bot.text import clip

    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab…"


def test_an_edited_template_is_rendered_once_its_file_has_been_looked_at_again(
    tmp_path: Path,
) -> None:
    # Jinja asks "still up to date?" on every render; the file is looked at once a second.
    template = tmp_path / "note.txt.j2"
    template.write_text("one {{ n }}")
    now = [100.0]
    renderer = Renderer(tmp_path, clock=lambda: now[0])
    assert renderer.render("note", TEXT, n=1) == "one 1\n"
    template.write_text("two {{ n }}")
    later = template.stat().st_mtime + 10
    os.utime(template, (later, later))
    assert renderer.render("note", TEXT, n=2) == "one 2\n"  # within the second: not looked at
    now[0] += 1.0
    assert renderer.render("note", TEXT, n=3) == "two 3\n"
