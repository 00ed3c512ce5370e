"""A document's main text and bibliographic details, from HTML, PDF, Markdown or plain text.

HTML goes through trafilatura, which drops page furniture (menus, footers, "related articles")
and reads the metadata a page declares: meta tags, JSON-LD and `<time>` (publication dates by
htmldate). PDF text comes from pypdf. Each detail says how it is known, in the fact base's
terms: `declared` when the document itself prints it, `inferred` when it was reasoned from
something else (the web address, the page text, a PDF's creation date), with the reason.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from bot.curate import CurateRefused
from bot.curate.source import HTML, MARKDOWN, PDF, Fetched
from bot.dates import parse_partial_date
from bot.factbase.documents import URL_RE

DECLARED, VERIFIED, INFERRED = "declared", "verified", "inferred"
MIN_WORDS = 5
"""Fewer words than this is not a document (a page of menus, a scanned PDF without text)."""
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Detail:
    """One bibliographic detail, how it is known, and (unless declared) why."""

    value: str
    provenance: str = DECLARED
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Extracted:
    """A document's main text (one paragraph a line) and the details found for it."""

    text: str
    title: Detail | None = None
    author: Detail | None = None
    publisher: Detail | None = None
    published: Detail | None = None
    """An ISO date (YYYY-MM-DD, YYYY-MM or YYYY)."""
    url: Detail | None = None


def extract(fetched: Fetched) -> Extracted:
    """The main text and details of `fetched`; `CurateRefused` when it has no text."""
    if fetched.content_type == HTML:
        result = _from_html(fetched)
    elif fetched.content_type == PDF:
        result = _from_pdf(fetched)
    else:
        result = _from_text(fetched)
    if len(result.text.split()) < MIN_WORDS:
        raise CurateRefused(f"{fetched.name}: no text found in it (beyond page furniture)")
    if result.url is None and fetched.url:
        when = "the address it was fetched from"
        result = replace(result, url=Detail(fetched.url, VERIFIED, when))
    if result.publisher is None and fetched.url:
        host = urlsplit(fetched.url).hostname or ""
        if host:
            result = replace(
                result, publisher=Detail(host, INFERRED, "the web address's host name")
            )
    return result


def _from_html(fetched: Fetched) -> Extracted:
    import trafilatura
    from htmldate import find_date
    from trafilatura.metadata import extract_metadata

    # Bytes unless the server named the charset: trafilatura then reads the page's own.
    html: str | bytes = _decode(fetched) if fetched.charset else fetched.content
    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_precision=True
    )
    tree = trafilatura.load_html(html)
    if tree is None:
        raise CurateRefused(f"{fetched.name}: not readable as HTML")
    meta = extract_metadata(tree, extensive=False)  # only what the page declares
    published = None
    if meta.date:
        published = Detail(meta.date, DECLARED)
    else:
        guessed = find_date(trafilatura.load_html(html), extensive_search=True, original_date=True)
        if guessed:
            published = Detail(guessed, INFERRED, "guessed from the page's text by htmldate")
    url = meta.url if meta.url and URL_RE.fullmatch(meta.url) else None
    publisher = None
    if meta.sitename:
        from_address = "." in meta.sitename and meta.sitename in (url or "")
        publisher = (
            Detail(meta.sitename, INFERRED, "the web address's host name")
            if from_address
            else Detail(meta.sitename, DECLARED)
        )
    return Extracted(
        text=_tidy(text or ""),
        title=Detail(meta.title) if meta.title else None,
        author=Detail(meta.author) if meta.author else None,
        publisher=publisher,
        published=_checked_date(published),
        url=Detail(url) if url else None,
    )


def _from_pdf(fetched: Fetched) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(fetched.content))
        if reader.is_encrypted:
            raise CurateRefused(f"{fetched.name}: the PDF is encrypted")
        text = "\n".join(_unwrap(page.extract_text() or "") for page in reader.pages)
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise CurateRefused(f"{fetched.name}: not a readable PDF ({exc})") from None
    title = author = published = None
    if info is not None:
        title = Detail(info.title.strip()) if info.title and info.title.strip() else None
        author = Detail(info.author.strip()) if info.author and info.author.strip() else None
        try:
            created = info.creation_date
        except ValueError:
            created = None
        if created is not None:
            published = Detail(created.date().isoformat(), INFERRED, "the PDF's creation date")
    return Extracted(text=_tidy(text), title=title, author=author, published=published)


WRAPPED_LINE_SHARE = 0.6
"""A PDF line at least this share of the page's longest line, not ending a sentence, was
wrapped: it is joined to the next one so that a sentence stays on one line."""


def _unwrap(page: str) -> str:
    """A PDF page's text with lines wrapped by the layout joined back into paragraphs."""
    lines = [line.rstrip() for line in page.splitlines()]
    longest = max((len(line) for line in lines), default=0)
    joined: list[str] = []
    wrapped = False
    for line in lines:
        if wrapped and line.strip():
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
        last = joined[-1]
        wrapped = (
            bool(last.strip())
            and not last.endswith((".", "!", "?", ":", ";"))
            and len(line) >= WRAPPED_LINE_SHARE * longest
        )
    return "\n".join(joined)


def _from_text(fetched: Fetched) -> Extracted:
    text = _tidy(_decode(fetched))
    first = next((line for line in text.splitlines() if line.strip()), "")
    heading = _MARKDOWN_HEADING.match(first) if fetched.content_type == MARKDOWN else None
    if heading:
        title = Detail(heading.group(1))
    elif first:
        title = Detail(first.strip()[:200], INFERRED, "the first line of the text")
    else:
        title = None
    return Extracted(text=text, title=title)


def _decode(fetched: Fetched) -> str:
    """The bytes as text: the declared charset, else UTF-8; refused when they are not text."""
    encodings = [fetched.charset] if fetched.charset else []
    for encoding in [*encodings, "utf-8"]:
        try:
            return fetched.content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise CurateRefused(f"{fetched.name}: not a text document (not UTF-8 text)")


def _tidy(text: str) -> str:
    """One paragraph a line, without trailing spaces or runs of blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n") + "\n" if kept else ""


def _checked_date(detail: Detail | None) -> Detail | None:
    """The detail when its value is a date the fact base accepts, else None."""
    if detail is None:
        return None
    try:
        parse_partial_date(detail.value)
    except ValueError:
        return None
    return detail
