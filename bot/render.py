"""Rendering replies with the Jinja2 templates in `templates/`.

Templates decide how things look; this module makes them safe. For Slack formats every value a
template prints is escaped for mrkdwn by the environment itself (`finalize`), so no template can
forget it: text from a user or a document can never become a mention or a disguised link. Only
markup the bot builds itself (`Safe` values from the `link` filter) passes unescaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2

from bot.text import escape_mrkdwn

TEXT = "text"
MARKDOWN = "markdown"
MRKDWN = "mrkdwn"
BLOCKS = "blocks"

_EXTENSIONS = {TEXT: "txt", MARKDOWN: "md", MRKDWN: "mrkdwn", BLOCKS: "blocks.json"}


class Safe(str):
    """Slack markup built by the bot itself, which the Slack formats must not escape again."""

    __slots__ = ()


def _link(url: str, text: str) -> str:
    """A Slack link `<url|text>` with both parts escaped, or the escaped text alone if no URL."""
    label = escape_mrkdwn(str(text)).replace("|", "¦")
    if not url:
        return Safe(label)
    target = escape_mrkdwn(str(url)).replace("|", "%7C")
    return Safe(f"<{target}|{label}>")


_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def _mention(user_id: Any) -> str:
    """A Slack user mention built by the bot; anything that is not a user id is shown escaped."""
    text = str(user_id)
    return Safe(f"<@{text}>") if _USER_ID_RE.match(text) else escape_mrkdwn(text)


def _clip(value: Any, limit: int) -> str:
    text = str(value)
    if len(text) <= limit:
        return text
    clipped = text[: max(limit - 1, 0)] + "…"
    return Safe(clipped) if isinstance(value, Safe) else clipped


def _cites(numbers: Any) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _finalize_mrkdwn(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Safe) or isinstance(value, (int, float)):
        return value
    return escape_mrkdwn(str(value))


def _finalize_json(value: Any) -> str:
    """Escape for mrkdwn, then for a JSON string literal (the template supplies the quotes)."""
    text = _finalize_mrkdwn(value)
    return json.dumps(str(text), ensure_ascii=False)[1:-1]


def _finalize_plain(value: Any) -> Any:
    return "" if value is None else value


class Renderer:
    """Renders named templates in a format: text, markdown, Slack mrkdwn or Block Kit JSON."""

    def __init__(self, templates_dir: Path | str) -> None:
        self.templates_dir = Path(templates_dir)
        loader = jinja2.FileSystemLoader(str(self.templates_dir))
        finalizers = {
            TEXT: _finalize_plain,
            MARKDOWN: _finalize_plain,
            MRKDWN: _finalize_mrkdwn,
            BLOCKS: _finalize_json,
        }
        self._envs: dict[str, jinja2.Environment] = {}
        for fmt, finalize in finalizers.items():
            env = jinja2.Environment(
                loader=loader,
                undefined=jinja2.StrictUndefined,
                finalize=finalize,
                autoescape=False,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=False,
            )
            env.filters["link"] = {TEXT: _text_link, MARKDOWN: _markdown_link}.get(fmt, _link)
            env.filters["clip"] = _clip
            env.filters["mention"] = _mention
            env.filters["cites"] = _cites
            env.filters["tojson_raw"] = lambda v: Safe(json.dumps(v)) if fmt == BLOCKS else v
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
            raise ValueError(f"template {name}.blocks.json.j2 produced invalid JSON: {exc}") from exc
        if not isinstance(blocks, list):
            raise ValueError(f"template {name}.blocks.json.j2 must produce a JSON list of blocks")
        return blocks

    def check(self) -> list[str]:
        """Names of templates that fail to compile, with the reason (for `briefbot check`)."""
        problems = []
        for path in sorted(self.templates_dir.glob("*.j2")):
            try:
                self._envs[TEXT].get_template(path.name)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: template syntax: {exc.message}")
        return problems


def _text_link(url: str, text: str) -> str:
    return f"{text} <{url}>" if url else str(text)


def _markdown_link(url: str, text: str) -> str:
    return f"[{text}]({url})" if url else str(text)


def brief_as_json(brief: Any) -> dict[str, Any]:
    """The machine-readable form of a `Brief` (the `--format json` contract)."""
    numbers = {s.n: s.id for s in brief.sources}
    return {
        "query": brief.query,
        "topic": {"id": brief.topic_id, "title": brief.title},
        "resolved_by": brief.resolved_by,
        "as_of": brief.as_of,
        "stale": brief.stale,
        "stale_reason": brief.stale_reason,
        "summary": [{"text": s.text, "citations": list(s.citations)} for s in brief.summary],
        "facts": [
            {
                "id": f.id,
                "statement": f.statement,
                "date": f.date,
                "citation": list(f.citations),
                "source": numbers[f.quotes[0].n],
                "quote": f.quotes[0].text,
                "also": [{"source": numbers[q.n], "quote": q.text} for q in f.quotes[1:]],
                "kind": f.kind,
                "commentary_only": f.commentary_only,
            }
            for f in brief.facts
        ],
        "omitted": brief.omitted,
        "sources": [
            {"n": s.n, "id": s.id, "title": s.title, "publisher": s.publisher, "date": s.date,
             "url": s.url or None, "kind": s.kind}
            for s in brief.sources
        ],
        "upcoming": [{"when": u.when, "label": u.label} for u in brief.upcoming],
    }
