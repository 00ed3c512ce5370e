"""No text from a user, a fact or a document can become Slack markup (a mention or a link).

The only `<...>` the bot may send is a link it builds itself, with the `link` filter, to a
source's http(s) URL. Everything else is escaped (`&`, `<`, `>`) by the rendering layer,
whatever the template.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.access import RequestContext
from bot.brief import Brief, BriefFact, Quote, SourceEntry, SummaryLine, UpcomingItem
from bot.commands import CommandHandler
from bot.factbase import FactBase, load_factbase
from bot.render import MRKDWN, Renderer
from bot.replies import BriefReply, NotFoundReply, Reply, TopicRow
from bot.slack.limits import check_message
from bot.slack.messages import MessageBuilder
from bot.state import Knowledge, KnowledgeHolder
from bot.text import escape_mrkdwn
from tests.conftest import TEMPLATES
from tests.seedkit import make_seeds

TODAY = dt.date(2026, 11, 23)
WEB_URL = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)
LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")

RENDERER = Renderer(TEMPLATES)
BUILDER = MessageBuilder(RENDERER)

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@U123|bob>",
    "<#C123>",
    "<https://evil|x>",
    "<http://evil.example>",
    "<!subteam^S123>",
    "<!date^1|x>",
    "&",
    "<",
    ">",
    "|",
    "&lt;!channel&gt;",
    "&amp;",
    "*bold*",
    "`code`",
    "\n",
    '"',
    "\\",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), min_size=1, max_size=6
).map("".join)
# What the loader guarantees of titles, statements and summary sentences: some visible text.
required_text = hostile_text.filter(lambda text: text.strip() != "")
printable_hostile = st.lists(
    st.one_of(
        st.sampled_from([h for h in HOSTILE if h != "\n"]),
        st.text(
            alphabet=st.characters(
                min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cc", "Cs")
            ),
            max_size=8,
        ),
    ),
    min_size=1,
    max_size=5,
).map("".join)
urls = st.sampled_from(
    [
        "",
        "https://example.org/report?a=1&b=2",
        "http://example.org/x",
        "!channel",
        "@U123",
        "<!here>",
        "javascript:alert(1)",
        "https://evil|x",
        "https://ok.example/<!channel>",
        "https://a b",
        "!here|x",
    ]
)


def strings(node: Any) -> Iterator[str]:
    """Every string in a payload, keys excepted."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def assert_only_own_links(text: str, source_urls: list[str]) -> None:
    """Every `<` starts a link to a source's web URL; no other markup remains."""
    allowed = {escape_mrkdwn(u) for u in source_urls if WEB_URL.fullmatch(u)}
    for match in LINK.finditer(text):
        assert match.group(1) in allowed, f"link to {match.group(1)!r} in {text!r}"
    rest = LINK.sub("", text)
    assert "<" not in rest, f"unescaped '<' in {text!r}"
    for entity in re.findall(r"&[^\s&;]*;?", rest):
        assert entity in ("&amp;", "&lt;", "&gt;"), f"raw {entity!r} in {text!r}"


def assert_payload_safe(payload: dict[str, Any], source_urls: list[str]) -> None:
    assert check_message(payload) == []
    assert "link_names" not in json.dumps(payload)
    for text in strings(payload):
        assert_only_own_links(text, source_urls)


def rendered(reply: Reply) -> Iterator[str]:
    """The mrkdwn texts a Slack surface could send for `reply`."""
    yield RENDERER.render_as_mrkdwn(reply.template, **reply.context())
    if isinstance(reply, BriefReply):
        yield RENDERER.render("brief", MRKDWN, **reply.context())


# --- briefs built directly: any text in any field ------------------------------------------------


@st.composite
def briefs(draw: st.DrawFn) -> Brief:
    source_count = draw(st.integers(min_value=1, max_value=3))
    sources = tuple(
        SourceEntry(
            n=n,
            id=f"doc-{n}",
            title=draw(hostile_text),
            publisher=draw(hostile_text),
            date=None,
            date_label=draw(hostile_text),
            url=draw(urls),
            kind=draw(st.sampled_from(["official", "analysis", "commentary"])),
        )
        for n in range(1, source_count + 1)
    )
    numbers = st.integers(min_value=1, max_value=source_count)
    facts = tuple(
        BriefFact(
            id=f"f{i}",
            statement=draw(required_text),
            date="2024",
            date_label=draw(st.none() | hostile_text),
            kind=None,
            citations=(n := draw(numbers),),
            quotes=(Quote(n, draw(hostile_text)),),
            commentary_only=draw(st.booleans()),
        )
        for i in range(draw(st.integers(min_value=0, max_value=4)))
    )
    return Brief(
        query=draw(hostile_text),
        topic_id=draw(hostile_text),
        title=draw(required_text),
        resolved_by=draw(st.sampled_from(["alias", "fuzzy", "search"])),
        today=TODAY,
        as_of=None,
        as_of_label=draw(hostile_text),
        stale=draw(st.booleans()),
        stale_reason=draw(hostile_text),
        summary=(SummaryLine(draw(required_text), (1,)), SummaryLine(draw(required_text), (1,))),
        facts=facts,
        timeline=facts,
        sources=sources,
        total_facts=len(facts) + draw(st.integers(min_value=0, max_value=3)),
        full=draw(st.booleans()),
        upcoming=tuple(
            UpcomingItem(draw(hostile_text), draw(hostile_text))
            for _ in range(draw(st.integers(min_value=0, max_value=2)))
        ),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(briefs(), st.sampled_from([None, "U0123ABCD", "<!channel>", "U1|<!here>"]))
def test_no_text_in_a_brief_becomes_slack_markup(brief: Brief, shared_by: str | None) -> None:
    reply = BriefReply(brief)
    urls_of_sources = [s.url for s in brief.sources]
    payload = BUILDER.build(reply, shared_by=shared_by)
    mention = f"<@{shared_by}>"
    if shared_by == "U0123ABCD":  # the one mention the bot makes itself, of a real user id
        assert any(mention in text for text in strings(payload))
        payload = json.loads(json.dumps(payload).replace(mention, "@user"))
    assert_payload_safe(payload, urls_of_sources)
    for text in rendered(reply):
        assert_only_own_links(text, urls_of_sources)


@given(hostile_text, hostile_text)
def test_a_link_to_a_web_address_escapes_its_label_and_keeps_it_inside(
    title: str, path: str
) -> None:
    url = "https://example.org/" + re.sub(r"[\s<>|]", "", path)
    source = SourceEntry(1, "d", title, "P", None, "undated", url, "official")
    text = RENDERER.render("brief", MRKDWN, brief=_minimal_brief(sources=(source,)))
    links = LINK.findall(text)
    assert links == [(escape_mrkdwn(url), escape_mrkdwn(title).replace("|", "¦"))]


def _minimal_brief(**changes: Any) -> Brief:
    brief = Brief(
        query="q",
        topic_id="t",
        title="T",
        resolved_by="alias",
        today=TODAY,
        as_of=None,
        as_of_label="undated",
        stale=False,
        stale_reason=None,
        summary=(SummaryLine("S.", (1,)),),
        facts=(),
        timeline=(),
        sources=(),
        total_facts=0,
        full=False,
    )
    return dataclasses.replace(brief, **changes)


@pytest.mark.parametrize(
    "url",
    [
        "!channel",
        "@U123",
        "!here|everyone",
        "javascript:x()",
        "https://evil.example|x",
        "mailto:a@b.example",
    ],
)
def test_a_source_url_that_is_not_a_web_address_is_never_put_in_angle_brackets(url: str) -> None:
    source = SourceEntry(1, "d", "Title", "P", None, "undated", url, "official")
    text = RENDERER.render("brief", MRKDWN, brief=_minimal_brief(sources=(source,)))
    assert "[1] Title, undated" in text
    assert "<" not in text


def test_clipping_counts_the_escaped_text_so_a_title_of_ampersands_still_fits() -> None:
    brief = _minimal_brief(title="&" * 200, facts=())
    payload = BUILDER.build(BriefReply(brief))
    assert check_message(payload) == []
    header = payload["blocks"][0]["text"]["text"]
    assert header.endswith("&amp;…") and len(header) <= 140
    assert "&am…" not in header  # never half an entity


# --- user queries ----------------------------------------------------------------------------


def test_a_channel_mention_typed_by_a_user_is_escaped_in_the_not_found_reply(
    factbase: FactBase,
) -> None:
    handler = CommandHandler(KnowledgeHolder(Knowledge.build(factbase)), today=lambda: TODAY)
    reply = handler.handle(
        "<!channel> zzqx <@U999> <https://evil|click>",
        RequestContext(surface="slack", prefix="/brief"),
    )
    assert isinstance(reply, NotFoundReply)
    payload = BUILDER.build(reply)
    assert_payload_safe(payload, [])
    assert "&lt;!channel&gt; zzqx &lt;@U999&gt;" in payload["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in payload["text"]
    for text in rendered(reply):
        assert_only_own_links(text, [])


@settings(max_examples=150, deadline=None)
@given(hostile_text)
def test_no_query_becomes_markup_in_any_reply(query: str) -> None:
    rows = (TopicRow("nato", "New Zealand & NATO", ("<!here>",), 3),)
    for reply in (NotFoundReply(query, rows), NotFoundReply(query, ())):
        assert_payload_safe(BUILDER.build(reply), [])
        for text in rendered(reply):
            assert_only_own_links(text, [])


# --- a whole fact base written by a hostile curator or document ---------------------------------


def _hostile_seeds(root: Path, line: str, title: str, statement: str, url: str) -> Path:
    body = f"Ministers met in Wellington.\n{line}\nThe end.\n"
    doc = (
        f"---\nid: doc-one\ntitle: {json.dumps(title)}\npublisher: {json.dumps(title)}\n"
        f"published: 2021-03\nurl: {json.dumps(url)}\nkind: official\n---\n{body}"
    )
    facts = (
        f"- id: f1\n  topics: [alpha]\n  statement: {json.dumps(statement)}\n"
        f"  source: doc-one\n  quote: {json.dumps(line)}\n"
        f"- id: f2\n  topics: [alpha]\n  statement: Ministers met.\n  source: doc-one\n"
        f"  quote: Ministers met in Wellington\n"
    )
    topics = (
        f"- id: alpha\n  title: {json.dumps(title)}\n  aliases: [{json.dumps('x' + title)}]\n"
        f"  summary:\n    - text: {json.dumps(statement)}\n      facts: [f1]\n"
        f"    - text: Two.\n      facts: [f2]\n"
    )
    return make_seeds(root, documents={"doc-one": doc}, facts=facts, topics=topics)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    printable_hostile,
    printable_hostile,
    printable_hostile,
    st.sampled_from(["", "https://example.org/?a=1&b=<2>", "https://example.org/ok"]),
)
def test_no_text_from_seeds_becomes_markup_in_any_reply(
    tmp_path_factory: pytest.TempPathFactory, line: str, title: str, statement: str, url: str
) -> None:
    if not line.strip() or not statement.strip() or not title.strip():
        return
    seeds = _hostile_seeds(tmp_path_factory.mktemp("seeds"), line, title, statement, url)
    report = load_factbase(seeds)
    if report.factbase is None:  # e.g. the URL with "<" is refused by the loader itself
        assert "<" in url
        return
    handler = CommandHandler(KnowledgeHolder(Knowledge.build(report.factbase)), today=lambda: TODAY)
    context = RequestContext(surface="slack", prefix="/brief")
    for text in ("alpha", "full alpha", f"search {statement}", "topics", "help", "zzqx qqq"):
        reply = handler.handle(text, context)
        payload = BUILDER.build(reply)
        assert_payload_safe(payload, [url])
        for rendered_text in rendered(reply):
            assert_only_own_links(rendered_text, [url])
