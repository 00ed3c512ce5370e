"""`briefbot ingest`: a file or web page becomes `seeds/documents/<id>.md`, or nothing at all.

The body is stored exactly as extracted, under a front-matter block that records each detail's
provenance, so the loader verifies every later quote against that very text. Every refusal
(see `bot.curate.source` and `extract`, plus a duplicate text or a taken id) happens before
anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.curate import CurateRefused
from bot.curate.extract import DECLARED, Detail, Extracted, extract
from bot.curate.source import read_source
from bot.factbase.documents import split_front_matter
from bot.factbase.model import SourceKind
from bot.ids import SLUG_RE
from bot.text import normalize_key, normalize_quote

SLUG_MAX_CHARS = 60
UNKNOWN_PUBLISHER = "Unknown publisher"
DETAILS = ("title", "author", "publisher", "published", "url")


@dataclass(frozen=True, slots=True)
class Ingested:
    """What `ingest` wrote: the document's id and file, and what it found and did not."""

    doc_id: str
    path: Path
    kind: SourceKind
    extracted: Extracted
    words: int

    def report(self) -> list[str]:
        """The lines `briefbot ingest` prints: each detail found with its provenance, then
        what a curator must set by hand."""
        lines = [f"wrote {self.path}: {self.words} words, kind {self.kind.value}"]
        missing = []
        for name in DETAILS:
            detail: Detail | None = getattr(self.extracted, name)
            if detail is None:
                missing.append(name)
                continue
            how = detail.provenance + (f": {detail.reason}" if detail.reason else "")
            lines.append(f"  {name}: {detail.value} ({how})")
        words = {"published": "publication date", "url": "web address"}
        for name in missing:
            lines.append(f"no {words.get(name, name)} found: set `{name}:`")
        lines.append(f"next: briefbot draft {self.doc_id}")
        return lines


def ingest(
    source: str,
    seeds_dir: Path,
    *,
    doc_id: str | None = None,
    kind: SourceKind = SourceKind.NEWS,
    today: dt.date | None = None,
) -> Ingested:
    """Read `source`, extract it and write its document file; `CurateRefused` writes nothing."""
    documents = seeds_dir / "documents"
    if not documents.is_dir():
        raise CurateRefused(f"{documents}: no documents folder (is --seeds right?)")
    if doc_id is not None and not SLUG_RE.fullmatch(doc_id):
        raise CurateRefused(f"id {doc_id!r} must be a slug of a-z, 0-9 and '-'")
    fetched = read_source(source)
    extracted = extract(fetched)
    duplicate = _same_text(documents, extracted.text)
    if duplicate is not None:
        raise CurateRefused(f"{fetched.name}: its text duplicates document {duplicate!r}")
    title = extracted.title.value if extracted.title else ""
    if doc_id is None:
        fallback = Path(urlsplit(fetched.url).path).stem if fetched.url else Path(source).stem
        doc_id = slug(title) or slug(fallback) or "document"
    path = documents / f"{doc_id}.md"
    if path.exists():
        raise CurateRefused(f"id {doc_id!r} is taken ({path}): choose another with --id")
    if extracted.title is None:
        extracted = _with_title(extracted, doc_id)
    header = front_matter(doc_id, kind, extracted, today or dt.date.today())
    path.write_text(header + extracted.text, encoding="utf-8")
    return Ingested(doc_id, path, kind, extracted, len(extracted.text.split()))


def slug(text: str) -> str:
    """A document id from a title: lower-case words joined by "-", cut at a word boundary."""
    result = ""
    for word in normalize_key(text).split(" "):
        if not word.isascii() or not word.isalnum():
            continue
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > SLUG_MAX_CHARS:
            break
        result = candidate
    return result if SLUG_RE.fullmatch(result) else ""


def text_hash(text: str) -> str:
    """The hash two documents with the same text share, whatever their quotes and spacing."""
    return hashlib.sha256(normalize_quote(text).encode("utf-8")).hexdigest()


def _same_text(documents: Path, text: str) -> str | None:
    """The id of a document in `documents` whose body has the same normalised text, if any."""
    wanted = text_hash(text)
    for path in sorted(documents.glob("*.md")):
        try:
            split = split_front_matter(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # `briefbot check` reports it
        if split is not None and text_hash(split[1]) == wanted:
            return path.stem
    return None


def _with_title(extracted: Extracted, doc_id: str) -> Extracted:
    return replace(extracted, title=Detail(doc_id, "inferred", "the document's id"))


def front_matter(doc_id: str, kind: SourceKind, extracted: Extracted, today: dt.date) -> str:
    """The YAML front-matter block, closed by `---`, with provenance for every non-declared
    detail and a note saying how each was inferred."""
    details: dict[str, Detail | None] = {name: getattr(extracted, name) for name in DETAILS}
    if details["publisher"] is None:
        details["publisher"] = Detail(UNKNOWN_PUBLISHER, "inferred", "not found in the document")
    header: dict[str, object] = {"id": doc_id}
    for name in DETAILS:
        detail = details[name]
        if detail is not None:
            header[name] = detail.value
    header["kind"] = kind.value
    unusual = {n: d for n, d in details.items() if d is not None and d.provenance != DECLARED}
    if unusual:
        header["provenance"] = {name: detail.provenance for name, detail in unusual.items()}
        notes = "; ".join(f"{name}: {detail.reason}" for name, detail in unusual.items())
        header["provenance_note"] = f"Ingested {today.isoformat()}. {notes}."
    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{text}---\n"
