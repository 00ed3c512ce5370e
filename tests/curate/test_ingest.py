"""`briefbot ingest`: what it writes and reports; every refusal is one line, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.curate.source import MAX_BYTES
from bot.factbase import load_factbase
from tests.curate.conftest import FIXTURES, Page, PageServer, cli, snapshot

HTML = FIXTURES / "rok-nz-critical-minerals.html"


def test_html_file_becomes_a_document_with_the_metadata_the_page_declares(seeds: Path) -> None:
    code, out = cli("ingest", str(HTML), "--id", "nz-rok-minerals")
    assert code == 0
    written = (seeds / "documents" / "nz-rok-minerals.md").read_text(encoding="utf-8")
    assert written.startswith("---\nid: nz-rok-minerals\n")
    assert "publisher: Pacific Wire\n" in written and "author: Mere Tawhiri\n" in written
    assert "published: '2026-03-12'\n" in written and "kind: news\n" in written
    assert "url: https://news.example.org/2026/03/nz-korea-critical-minerals\n" in written
    assert "provenance" not in written  # everything was declared by the page
    body = written.split("---\n", 2)[2]
    assert "signed a Critical Minerals Supply Chain Arrangement in Wellington" in body
    for furniture in ("Subscribe to our newsletter", "Related articles", "Privacy policy", "©"):
        assert furniture not in body
    assert "  published: 2026-03-12 (declared)" in out
    assert "  publisher: Pacific Wire (declared)" in out
    report = load_factbase(seeds)
    assert report.factbase is not None, report.errors
    assert report.factbase.documents["nz-rok-minerals"].title.startswith("New Zealand and Korea")


def test_id_defaults_to_a_slug_of_the_title(seeds: Path) -> None:
    assert cli("ingest", str(HTML))[0] == 0
    assert (
        seeds / "documents" / "new-zealand-and-korea-sign-critical-minerals-arrangement.md"
    ).exists()


def test_url_without_declared_details_marks_what_was_inferred(
    seeds: Path, page_server: PageServer
) -> None:
    page_server.pages["/story"] = Page(
        b"<html><body><article><h1>Fisheries talks resume</h1><p>Officials from New Zealand "
        b"and Korea met in Nelson to discuss fisheries cooperation and agreed to meet again "
        b"next year.</p></article></body></html>"
    )
    code, out = cli("ingest", page_server.url("/story"), "--id", "fisheries")
    assert code == 0, out
    written = (seeds / "documents" / "fisheries.md").read_text(encoding="utf-8")
    assert f"url: {page_server.url('/story')}\n" in written
    assert "publisher: 127.0.0.1\n" in written
    assert "  publisher: inferred\n" in written and "  url: verified\n" in written
    assert "provenance_note:" in written
    assert "no publication date found: set `published:`" in out
    assert "no author found: set `author:`" in out
    assert load_factbase(seeds).factbase is not None


def test_text_file_without_a_date_says_to_set_published(seeds: Path, tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text("# Talks in Seoul\n\nThe two ministers will meet again in 2027.\n")
    code, out = cli("ingest", str(source))
    assert code == 0
    assert "  title: Talks in Seoul (declared)" in out
    assert "no publication date found: set `published:`" in out
    assert "no publisher found: set `publisher:`" in out
    written = (seeds / "documents" / "talks-in-seoul.md").read_text(encoding="utf-8")
    assert written.endswith("---\n# Talks in Seoul\n\nThe two ministers will meet again in 2027.\n")
    assert load_factbase(seeds).factbase is not None


# --- refusals: one line on stderr, exit 2, nothing written -------------------------------------


def refused(seeds: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    before = snapshot(seeds)
    code, out = cli("ingest", *argv)
    err = capsys.readouterr().err
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert snapshot(seeds) == before
    return err


def test_refuses_a_file_that_cannot_be_read(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(seeds, capsys, str(tmp_path / "missing.html"))
    assert "missing.html: cannot read: No such file or directory" in err


def test_refuses_an_empty_file(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.txt").write_text("  \n")
    assert "empty.txt: the file is empty" in refused(seeds, capsys, str(tmp_path / "empty.txt"))


def test_refuses_a_file_type_not_ingested(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04")
    assert "report.docx: not a file type ingested" in refused(
        seeds, capsys, str(tmp_path / "report.docx")
    )


def test_refuses_binary_content_in_a_text_file(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "image.txt: not a text document" in refused(seeds, capsys, str(tmp_path / "image.txt"))


def test_refuses_a_page_that_is_not_text(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    page_server.pages["/logo"] = Page(b"\x89PNG\r\n", content_type="image/png")
    err = refused(seeds, capsys, page_server.url("/logo"))
    assert "not a text document (content type image/png)" in err


def test_refuses_a_text_already_in_the_base(
    seeds: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli("ingest", str(HTML), "--id", "first")[0] == 0
    err = refused(seeds, capsys, str(HTML), "--id", "second")
    assert "its text duplicates document 'first'" in err


def test_refuses_a_bundled_document_ingested_again(
    seeds: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    original = (seeds / "documents" / "capie-nz-nato-vilnius-2023.md").read_text(encoding="utf-8")
    copy = tmp_path / "capie.txt"
    copy.write_text(original.split("---\n", 2)[2].replace("\n", "\n\n"), encoding="utf-8")
    err = refused(seeds, capsys, str(copy), "--id", "capie-again")
    assert "duplicates document 'capie-nz-nato-vilnius-2023'" in err


def test_refuses_an_id_already_taken(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(seeds, capsys, str(HTML), "--id", "capie-nz-nato-vilnius-2023")
    assert "id 'capie-nz-nato-vilnius-2023' is taken" in err


def test_refuses_an_id_that_is_not_a_slug(seeds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "must be a slug" in refused(seeds, capsys, str(HTML), "--id", "Not A Slug")


def test_refuses_a_url_that_fails_with_its_status(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(seeds, capsys, page_server.url("/gone"))
    assert f"{page_server.url('/gone')}: HTTP 404 Not Found" in err


def test_refuses_a_url_nobody_answers(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    err = refused(seeds, capsys, f"http://127.0.0.1:{port}/page")
    assert f"http://127.0.0.1:{port}/page: cannot fetch:" in err and "refused" in err.lower()


def test_refuses_a_page_declared_over_5_mb(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    page_server.pages["/big"] = Page(b"<p>" + b"x" * MAX_BYTES + b"</p>")
    assert "/big: over 5 MB" in refused(seeds, capsys, page_server.url("/big"))


def test_refuses_a_page_that_streams_past_5_mb(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    page_server.pages["/stream"] = Page(b"<p>" + b"x" * MAX_BYTES + b"</p>", send_length=False)
    assert "/stream: over 5 MB" in refused(seeds, capsys, page_server.url("/stream"))


def test_refuses_a_file_over_5_mb(
    seeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "big.txt").write_bytes(b"word " * (MAX_BYTES // 5 + 1))
    assert "big.txt: over 5 MB" in refused(seeds, capsys, str(tmp_path / "big.txt"))


def test_refuses_a_page_with_no_text(
    seeds: Path, page_server: PageServer, capsys: pytest.CaptureFixture[str]
) -> None:
    page_server.pages["/blank"] = Page(b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert "no text found in it" in refused(seeds, capsys, page_server.url("/blank"))
