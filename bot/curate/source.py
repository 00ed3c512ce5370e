"""Reading what a curator ingests: a local file or an http(s) URL, as bytes with a content type.

Everything a curator could get wrong ends in `CurateRefused` with one line: a file that cannot
be read or is empty, a type that is not a text document, a URL that fails, more than 5 MB.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from bot.curate import CurateRefused

MAX_BYTES = 5 * 1024 * 1024
"""The largest document ingested (a page or file over this is refused, never cut)."""

FETCH_TIMEOUT_SECONDS = 30.0
CHUNK_BYTES = 64 * 1024
USER_AGENT = "briefbot-ingest/0.1 (+https://github.com/; a curator's fact base)"

HTML, PLAIN, MARKDOWN, PDF = "text/html", "text/plain", "text/markdown", "application/pdf"
FILE_TYPES = {".html": HTML, ".htm": HTML, ".txt": PLAIN, ".md": MARKDOWN, ".pdf": PDF}
"""File name endings ingested, and the content type each is read as."""

CONTENT_TYPES = {
    HTML: HTML,
    "application/xhtml+xml": HTML,
    PLAIN: PLAIN,
    MARKDOWN: MARKDOWN,
    "text/x-markdown": MARKDOWN,
    PDF: PDF,
}
"""HTTP content types ingested, and the kind of document each is read as."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A source's bytes, what kind of document they are, and where they came from."""

    content: bytes
    content_type: str
    charset: str | None
    name: str
    """The file name or the final URL, for messages and for a fallback id."""
    url: str = ""
    """The address the page was fetched from (after redirects); empty for a local file."""


def read_source(source: str, *, timeout: float = FETCH_TIMEOUT_SECONDS) -> Fetched:
    """Read `source` (a path or an http(s) URL); raise `CurateRefused` with the reason."""
    if source.lower().startswith(("http://", "https://")):
        return _read_url(source, timeout)
    return _read_file(Path(source))


def _read_file(path: Path) -> Fetched:
    content_type = FILE_TYPES.get(path.suffix.lower())
    if content_type is None:
        kinds = ", ".join(sorted(FILE_TYPES))
        raise CurateRefused(f"{path}: not a file type ingested (one of {kinds})")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CurateRefused(f"{path}: over {_mb(MAX_BYTES)}")
        content = path.read_bytes()
    except OSError as exc:
        raise CurateRefused(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not content.strip():
        raise CurateRefused(f"{path}: the file is empty")
    if content_type != PDF and b"\x00" in content:
        raise CurateRefused(f"{path}: not a text document (binary content)")
    return Fetched(content, content_type, None, path.name)


def _read_url(url: str, timeout: float) -> Fetched:
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers: Message = response.headers
            raw_type = headers.get_content_type()
            content_type = CONTENT_TYPES.get(raw_type)
            if content_type is None:
                raise CurateRefused(f"{url}: not a text document (content type {raw_type})")
            length = headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > MAX_BYTES:
                raise CurateRefused(f"{url}: over {_mb(MAX_BYTES)} ({int(length)} bytes)")
            content = _read_capped(response, url)
            final_url = response.geturl()
    except urllib.error.HTTPError as exc:
        raise CurateRefused(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise CurateRefused(f"{url}: cannot fetch: {exc.reason}") from None
    except (OSError, ValueError) as exc:  # timeouts, resets, malformed addresses
        raise CurateRefused(f"{url}: cannot fetch: {exc}") from None
    if not content.strip():
        raise CurateRefused(f"{url}: the page is empty")
    return Fetched(content, content_type, headers.get_content_charset(), final_url, final_url)


def _read_capped(response: Any, url: str) -> bytes:
    """The body, read in chunks, refused as soon as it passes `MAX_BYTES`."""
    chunks: list[bytes] = []
    total = 0
    while chunk := response.read(CHUNK_BYTES):
        total += len(chunk)
        if total > MAX_BYTES:
            raise CurateRefused(f"{url}: over {_mb(MAX_BYTES)}")
        chunks.append(chunk)
    return b"".join(chunks)


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"
