"""Rendering replies with the Jinja2 templates in `templates/`.

Templates decide how things look; this module makes them safe. For Slack formats every value a
template prints is escaped for mrkdwn by the environment itself (`finalize`), so no template can
forget it: text from a user or a document can never become a mention or a disguised link. Only
markup the bot builds itself (`Safe` values from the `link` filter) passes unescaped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from collections.abc import Callable, MutableMapping
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import Any

import jinja2

from bot.cache import TemplateBytecodeCache, template_cache_dir
from bot.config import default_dir
from bot.ids import CHANNEL_ID_RE, USER_ID_RE
from bot.text import clip, clip_escaped, escape_mrkdwn

TEXT = "text"
MARKDOWN = "markdown"
MRKDWN = "mrkdwn"
BLOCKS = "blocks"

_EXTENSIONS = {TEXT: "txt", MARKDOWN: "md", MRKDWN: "mrkdwn", BLOCKS: "blocks.json"}

_RENDERED_BY = {ext: (fmt,) for fmt, ext in _EXTENSIONS.items()} | {"txt": (TEXT, MRKDWN)}
"""The environments that render a template, by the part of its name between the template's name
and `.j2` (a plain text template is also a Slack notification's fallback, `render_as_mrkdwn`)."""


class Safe(str):
    """Slack markup built by the bot itself, which the Slack formats must not escape again."""

    __slots__ = ()


_WEB_URL_RE = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)


def _link(url: str, text: str) -> str:
    """A Slack link `<url|text>` with both parts escaped, or the escaped text alone.

    Only an http(s) URL becomes a link: `<!channel|x>` and `<@U123|x>` are mentions in Slack's
    syntax, so anything else in the URL's place must never be put between `<` and `>`.
    """
    label = _escaped(text).replace("|", "¦")
    if not _WEB_URL_RE.fullmatch(str(url)):
        return Safe(label)
    return Safe(f"<{escape_mrkdwn(str(url))}|{label}>")


def _escaped(value: Any) -> str:
    """Text escaped for mrkdwn, unless it is markup the bot built (`Safe`)."""
    return value if isinstance(value, Safe) else escape_mrkdwn(str(value))


def _mention(user_id: Any) -> str:
    """A Slack user mention built by the bot; anything that is not a user id is shown escaped."""
    text = str(user_id)
    return Safe(f"<@{text}>") if USER_ID_RE.fullmatch(text) else escape_mrkdwn(text)


def _channel(channel_id: Any) -> str:
    """A Slack channel link built by the bot; anything that is not a channel id is escaped."""
    text = str(channel_id)
    return Safe(f"<#{text}>") if CHANNEL_ID_RE.fullmatch(text) else escape_mrkdwn(text)


def _clip(value: Any, limit: int) -> str:
    """At most `limit` characters, the last an ellipsis when anything was cut (text formats)."""
    text = str(value)
    if len(text) <= limit:
        return value if isinstance(value, str) else text
    return Safe(clip(text, limit)) if isinstance(value, Safe) else clip(text, limit)


def _clip_mrkdwn(value: Any, limit: int) -> str:
    """Escape, then clip to `limit` characters as sent (Slack formats).

    Slack's limits count the escaped text (`&` is sent as the five characters `&amp;`), so
    clipping first and escaping after could overflow them; an entity is never cut in half.
    """
    return Safe(clip_escaped(_escaped(value), limit))


def _cites(numbers: Any) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _finalize_mrkdwn(value: Any) -> Any:
    if type(value) is str:  # the usual case first: this runs for every value printed
        return escape_mrkdwn(value)
    if value is None:
        return ""
    if isinstance(value, (Safe, int, float)):
        return value
    return escape_mrkdwn(str(value))


def _finalize_json(value: Any) -> str:
    """Escape for mrkdwn, then for a JSON string literal (the template supplies the quotes)."""
    # What json.dumps(text, ensure_ascii=False) gives for a string, without its overhead.
    return _json_string(str(_finalize_mrkdwn(value)))[1:-1]


def _finalize_plain(value: Any) -> Any:
    return "" if value is None else value


RECHECK_SECONDS = 1.0
"""How long a loaded template is used before its file is looked at again for an edit."""


class _Environment(jinja2.Environment):
    """Jinja2's environment, with each template's globals one plain dict.

    Jinja2 chains a template's globals to the environment's (a `collections.ChainMap`) so that
    later changes to the environment's globals still show, and every render then copies that
    chain key by key in Python: about a third of the time of rendering a reminder. The bot sets
    nothing in the globals and never changes them after a template is loaded (as Jinja2's
    documentation asks), so a copy made when the template is loaded is the same; changing one
    template's globals still leaves the environment's and the other templates' alone.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """The environment's globals overlaid with the template's own `d`, as one new dict."""
        return {**self.globals, **(d or {})}


class _FileSystemLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, whose "is this template still up to date?" looks at the file at most
    once every `RECHECK_SECONDS`. Jinja asks on every render, and on a slow file system (this
    machine's) the stat costs as much as rendering a reminder: `run-due` renders two templates
    per post. An edited template still shows within a second."""

    def __init__(self, searchpath: str, *, clock: Callable[[], float]) -> None:
        super().__init__(searchpath)
        self._clock = clock

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        checked_at = self._clock()

        def recently_checked() -> bool:
            nonlocal checked_at
            now = self._clock()
            if now - checked_at < RECHECK_SECONDS:
                return True
            checked_at = now
            return uptodate()

        return source, filename, recently_checked


class Renderer:
    """Renders named templates in a format: text, markdown, Slack mrkdwn or Block Kit JSON.

    `clock` (monotonic seconds) paces the look for edited templates; injected in tests."""

    def __init__(
        self,
        templates_dir: Path | str,
        *,
        cache_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`cache_dir`: keep compiled templates there (`bot.cache`), for the command line."""
        self.templates_dir = Path(templates_dir)
        loader = _FileSystemLoader(str(self.templates_dir), clock=clock)
        finalizers = {
            TEXT: _finalize_plain,
            MARKDOWN: _finalize_plain,
            MRKDWN: _finalize_mrkdwn,
            BLOCKS: _finalize_json,
        }
        self._envs: dict[str, jinja2.Environment] = {}
        for fmt, finalize in finalizers.items():
            env = _Environment(
                loader=loader,
                undefined=jinja2.StrictUndefined,
                finalize=finalize,
                autoescape=False,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=False,
                bytecode_cache=(
                    TemplateBytecodeCache(template_cache_dir(cache_dir), fmt) if cache_dir else None
                ),
            )
            slack = fmt in (MRKDWN, BLOCKS)
            env.filters["link"] = {TEXT: _text_link, MARKDOWN: _markdown_link}.get(fmt, _link)
            env.filters["clip"] = _clip_mrkdwn if slack else _clip
            env.filters["mention"] = _mention
            env.filters["channel"] = _channel if slack else str
            env.filters["cites"] = _cites
            self._envs[fmt] = env

    def render(self, name: str, fmt: str, **context: Any) -> str:
        """Render template `name` (e.g. "brief") in `fmt` with `context`."""
        template = self._envs[fmt].get_template(f"{name}.{_EXTENSIONS[fmt]}.j2")
        return template.render(**context).strip() + ("\n" if fmt in (TEXT, MARKDOWN) else "")

    def render_as_mrkdwn(self, name: str, **context: Any) -> str:
        """Render a plain-text template with Slack escaping, for notification fallbacks."""
        template = self._envs[MRKDWN].get_template(f"{name}.{_EXTENSIONS[TEXT]}.j2")
        return template.render(**context).strip()

    def render_blocks(self, name: str, **context: Any) -> list[dict[str, Any]]:
        """Render a Block Kit template and parse it into a list of blocks."""
        text = self.render(name, BLOCKS, **context)
        try:
            blocks = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"template {name}.blocks.json.j2 produced invalid JSON: {exc}"
            ) from exc
        if not isinstance(blocks, list):
            raise ValueError(f"template {name}.blocks.json.j2 must produce a JSON list of blocks")
        return blocks

    def check(self) -> list[str]:
        """Templates the bot renders that are missing or fail to compile, with the reason (for
        `briefbot check` and start-up). The bot renders every template it ships with."""
        needed = _bundled_template_names()
        missing = sorted(n for n in needed if not (self.templates_dir / n).is_file())
        if missing and len(missing) == len(needed):
            return [f"{self.templates_dir}:0: none of the bot's {len(needed)} templates is here"]
        problems = [f"{self.templates_dir / name}:0: missing template" for name in missing]
        for path in sorted(self.templates_dir.glob("*.j2")):
            try:
                # Compiled by each environment that renders it, and kept: the first brief or
                # reminder after start-up does not wait for a compilation.
                kind = path.name.removesuffix(".j2").partition(".")[2]
                for fmt in _RENDERED_BY.get(kind, (TEXT,)):  # any other: included or imported
                    self._envs[fmt].get_template(path.name)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: template syntax: {exc.message}")
        return problems


def _bundled_template_names() -> set[str]:
    """The file names of the templates shipped with the bot (the checkout's or the package's)."""
    return {path.name for path in default_dir("templates").glob("*.j2")}


def _text_link(url: str, text: str) -> str:
    return f"{text} <{url}>" if url else str(text)


def _markdown_link(url: str, text: str) -> str:
    return f"[{text}]({url})" if url else str(text)


def reply_as_json(reply: Any) -> Any:
    """The machine-readable form of any reply: the CLI's `--format json` and the tests' view.

    A brief is `brief_as_json`; not found is `{"query", "error": "not_found", "suggestions"}`;
    a topic list is a list of `{"id", "title", "aliases", "facts"}`; a search is its list of
    hits; anything else is `{"kind", ...its fields}`, with `"error"` set for refusals.
    """
    kind = getattr(reply, "kind", "")
    if kind == "brief":
        return brief_as_json(reply.brief)
    if kind == "not_found":
        return {
            "query": reply.query,
            "error": "not_found",
            "suggestions": [row.id for row in reply.suggestions],
        }
    if kind == "topics":
        return [
            {"id": r.id, "title": r.title, "aliases": list(r.aliases), "facts": r.facts}
            for r in reply.topics
        ]
    if kind == "search":
        return [dict(hit, topics=list(hit["topics"])) for hit in reply.hits]
    document: dict[str, Any] = {"kind": kind}
    if kind in ("error", "not_allowed"):
        document["error"] = kind
    document.update(_plain(dataclasses.asdict(reply)))
    return document


def _plain(value: Any) -> Any:
    """Tuples as lists and dates as ISO text, so that a reply's fields are JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):  # dates and datetimes
        return value.isoformat()
    return value


def brief_as_json(brief: Any) -> dict[str, Any]:
    """The machine-readable form of a `Brief`: the `--format json` contract, nothing more.

    `{"query", "topic": {"id", "title"}, "resolved_by", "as_of", "as_of_inferred", "stale",
    "stale_facts", "facts": [{"id", "statement", "claim", "date", "date_inferred", "citation",
    "source", "quote", "quotes", "kind", "said_by", "stated", "stated_inferred", "due", "lapsed",
    "commentary_only"}], "sources": [{"n", "id", "title", "publisher", "date", "url",
    "kind"}]}`. `statement` is the sentence the brief prints (attributed where needed),
    `claim` the bare statement; `citation` lists the numbers of every source supporting the
    fact; `source` and `quote` are the primary one's, `quotes` all of them; `stated` and `due`
    are ISO partial dates or null.
    """
    numbers = {s.n: s.id for s in brief.sources}
    return {
        "query": brief.query,
        "topic": {"id": brief.topic_id, "title": brief.title},
        "resolved_by": brief.resolved_by,
        "as_of": brief.as_of,
        "as_of_inferred": brief.as_of_inferred,
        "stale": brief.stale,
        "stale_facts": list(brief.stale_facts),
        "facts": [
            {
                "id": f.id,
                "statement": f.statement,
                "claim": f.claim,
                "date": f.date,
                "date_inferred": f.date_inferred,
                "citation": list(f.citations),
                "source": numbers[f.quotes[0].n],
                "quote": f.quotes[0].text,
                "quotes": [{"source": numbers[q.n], "n": q.n, "text": q.text} for q in f.quotes],
                "kind": f.kind,
                "said_by": f.said_by,
                "stated": f.stated,
                "stated_inferred": f.stated_inferred,
                "due": f.due,
                "lapsed": f.lapsed,
                "commentary_only": f.commentary_only,
            }
            for f in brief.facts
        ],
        "sources": [
            {
                "n": s.n,
                "id": s.id,
                "title": s.title,
                "publisher": s.publisher,
                "date": s.date,
                "url": s.url or None,
                "kind": s.kind,
            }
            for s in brief.sources
        ],
    }
