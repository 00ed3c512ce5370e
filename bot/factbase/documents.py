"""Source documents: `documents/<id>.md`, a YAML front-matter block on top of the verbatim body.

The body is normalised once for quote verification; lines marked as web-page noise are masked so
that no quote can come from them or run across them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dates import parse_date_span
from bot.factbase.common import Collector, not_one_of, read_text
from bot.factbase.model import PROVENANCE_FIELDS, PROVENANCE_VALUES, Document, SourceKind
from bot.factbase.yamlsrc import LineDict, YamlSyntaxError, load_yaml
from bot.ids import SLUG_RE
from bot.text import normalize_quote

URL_RE = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)
DOCUMENT_FIELDS = {
    "id",
    "title",
    "publisher",
    "author",
    "published",
    "url",
    "kind",
    "noise",
    "noise_after",
    "said_by",
    "outlet",
    "provenance",
    "provenance_note",
}
DOCUMENT_REQUIRED = {"id", "title", "publisher", "kind"}

# A noise line is replaced by this marker so that no quote can match across it.
_NOISE_MARK = "\x00"


@dataclass
class DocText:
    """A document's body as verification sees it: normalised, with noise lines masked."""

    clean: str
    noise_only: str

    def contains(self, quote: str) -> bool:
        """Whether `quote` occurs in the body outside noise: the loader's whole quote check."""
        return normalize_quote(quote) in self.clean


def split_front_matter(text: str) -> tuple[str, str] | None:
    """Split `---\\nYAML\\n---\\nBODY`; None when the file has no front-matter block."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        return None
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return None


def load_documents(
    folder: Path, out: Collector, digest: Any
) -> tuple[dict[str, Document], dict[str, DocText]]:
    """Every `documents/*.md`, by id, with the normalised text quotes are checked against."""
    documents: dict[str, Document] = {}
    texts: dict[str, DocText] = {}
    if not folder.is_dir():
        out.error(folder, 0, "documents folder is missing")
        return documents, texts
    for path in sorted(folder.glob("*.md")):
        text = read_text(path, out, digest)
        if text is None:
            continue
        split = split_front_matter(text)
        if split is None:
            out.error(
                path,
                1,
                "no front-matter block: the file must start with '---' and a "
                "YAML block closed by '---'",
            )
            continue
        header_text, body = split
        try:
            header = load_yaml(header_text)
        except YamlSyntaxError as exc:
            out.error(path, exc.line + 1, exc.message)
            continue
        if not isinstance(header, LineDict):
            out.error(path, 2, "front matter must be a mapping of fields")
            continue
        doc = _document_from(path, header, body, out)
        if doc is None:
            continue
        document, doc_text = doc
        if document.id in documents:
            out.error(
                path,
                header.line_of("id") + 1,
                f"duplicate document id {document.id!r} (also {documents[document.id].path})",
            )
            continue
        documents[document.id] = document
        texts[document.id] = doc_text
    return documents, texts


def _document_from(
    path: Path, header: LineDict, body: str, out: Collector
) -> tuple[Document, DocText] | None:
    def line(key: str) -> int:
        return header.line_of(key) + 1  # +1: the opening '---'

    ok = True
    for key in sorted(set(header) - DOCUMENT_FIELDS, key=str):
        allowed = ", ".join(sorted(DOCUMENT_FIELDS))
        out.error(path, line(key), f"unknown field {key!r} (allowed: {allowed})")
        ok = False
    for key in sorted(DOCUMENT_REQUIRED - set(header)):
        out.error(path, header.line + 1, f"missing field {key!r}")
        ok = False
    doc_id = _text_field(header, "id", path, out, line)
    if doc_id is not None:
        if not SLUG_RE.fullmatch(doc_id):
            out.error(path, line("id"), f"id {doc_id!r} must be a slug of a-z, 0-9 and '-'")
            ok = False
        elif doc_id != path.stem:
            out.error(path, line("id"), f"id {doc_id!r} does not match the file name {path.name!r}")
            ok = False
    strings = {
        k: _text_field(header, k, path, out, line)
        for k in ("title", "publisher", "author", "url", "said_by", "outlet", "provenance_note")
    }
    if strings["url"] and not URL_RE.fullmatch(strings["url"]):
        # Only web addresses become links; "<!channel|...>" is a mention in Slack's syntax.
        out.error(
            path,
            line("url"),
            f"url {strings['url']!r} must be an http(s) address without spaces, or empty",
        )
        ok = False
    published = None
    try:
        span = parse_date_span(header.get("published"))
        if span is not None and span.is_range:
            raise ValueError("a publication date cannot be a range")
        published = span.start if span else None
    except ValueError as exc:
        out.error(path, line("published"), f"published: {exc}")
        ok = False
    kind = None
    try:
        kind = SourceKind(header.get("kind"))
    except ValueError:
        if "kind" in header:
            out.error(
                path,
                line("kind"),
                not_one_of("kind", header.get("kind"), (k.value for k in SourceKind)),
            )
        ok = False
    provenance = _provenance(header, path, out, line)
    if provenance is None:
        ok = False
    doc_text = _mask_noise(path, header, body, out, line)
    if (
        not ok
        or provenance is None
        or doc_id is None
        or kind is None
        or doc_text is None
        or strings["title"] is None
    ):
        return None
    return (
        Document(
            id=doc_id,
            title=strings["title"] or "",
            publisher=strings["publisher"] or "",
            author=strings["author"] or "",
            published=published,
            url=strings["url"] or "",
            kind=kind,
            path=out.shown(path),
            said_by=strings["said_by"] or _default_speaker(kind, strings),
            outlet=strings["outlet"] or "",
            provenance=provenance,
            provenance_note=strings["provenance_note"] or "",
        ),
        doc_text,
    )


def _default_speaker(kind: SourceKind, strings: dict[str, str | None]) -> str:
    """Who speaks in a document's facts when the front matter does not say: an analysis's
    author (by surname), otherwise the publisher."""
    author = (strings["author"] or "").strip()
    if kind is SourceKind.ANALYSIS and author:
        return author.split()[-1]
    return strings["publisher"] or ""


def _provenance(header: LineDict, path: Path, out: Collector, line: Any) -> dict[str, str] | None:
    """How each bibliographic field is known; a field that is set defaults to "declared"."""
    raw = header.get("provenance")
    result = {key: "declared" for key in PROVENANCE_FIELDS if header.get(key) not in (None, "")}
    if raw is None:
        return result
    if not isinstance(raw, dict):
        out.error(
            path, line("provenance"), "provenance must map fields to declared|verified|inferred"
        )
        return None
    ok = True
    for key, value in raw.items():
        if key not in PROVENANCE_FIELDS:
            out.error(
                path,
                line("provenance"),
                f"provenance: unknown field {key!r} (one of {', '.join(PROVENANCE_FIELDS)})",
            )
            ok = False
        elif value not in PROVENANCE_VALUES:
            out.error(
                path,
                line("provenance"),
                f"provenance: {not_one_of(f'{key}:', value, PROVENANCE_VALUES)}",
            )
            ok = False
        elif header.get(key) in (None, ""):
            out.error(path, line("provenance"), f"provenance: {key} is empty, so it has none")
            ok = False
        else:
            result[key] = value
    if (
        result
        and any(v != "declared" for v in result.values())
        and not header.get("provenance_note")
    ):
        out.error(
            path,
            line("provenance"),
            "provenance: say how verified or inferred fields are known in provenance_note",
        )
        ok = False
    return result if ok else None


def _text_field(header: LineDict, key: str, path: Path, out: Collector, line: Any) -> str | None:
    value = header.get(key)
    if value is None:
        return "" if key not in DOCUMENT_REQUIRED else None
    if not isinstance(value, str):
        out.error(path, line(key), f"{key} must be text, got {type(value).__name__}")
        return None
    if key in DOCUMENT_REQUIRED and not value.strip():
        out.error(path, line(key), f"{key} must not be empty")
        return None
    return value.strip()


def _mask_noise(
    path: Path, header: LineDict, body: str, out: Collector, line: Any
) -> DocText | None:
    """Normalise the body, replacing each noise line by a marker no quote can cross."""
    raw_lines = body.splitlines()
    norm_lines = [normalize_quote(text) for text in raw_lines]
    noise = header.get("noise") or []
    after = header.get("noise_after")
    if not isinstance(noise, list) or not all(isinstance(n, str) and n.strip() for n in noise):
        out.error(path, line("noise"), "noise must be a list of line starts (non-empty text)")
        return None
    if after is not None and not (isinstance(after, str) and after.strip()):
        out.error(path, line("noise_after"), "noise_after must be the start of a line (text)")
        return None
    is_noise = [False] * len(raw_lines)
    ok = True
    for entry in noise:
        start = normalize_quote(entry)
        hits = [i for i, text in enumerate(norm_lines) if text.startswith(start)]
        if not hits:
            out.error(path, line("noise"), f"noise entry {entry!r} starts no line of the document")
            ok = False
        for i in hits:
            is_noise[i] = True
    if after is not None:
        start = normalize_quote(after)
        first = next((i for i, text in enumerate(norm_lines) if text.startswith(start)), None)
        if first is None:
            out.error(
                path, line("noise_after"), f"noise_after {after!r} starts no line of the document"
            )
            ok = False
        else:
            for i in range(first, len(raw_lines)):
                is_noise[i] = True
    if not ok:
        return None
    pairs = list(zip(norm_lines, is_noise, strict=True))
    clean = " ".join(_NOISE_MARK if noisy else text for text, noisy in pairs)
    noise_only = " ".join(text if noisy else _NOISE_MARK for text, noisy in pairs)
    return DocText(clean=" ".join(clean.split()), noise_only=" ".join(noise_only.split()))
