"""A brief as a Word document: opened again with python-docx, everything the brief says is there,
in named styles; and `briefbot brief --format docx -o FILE`."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE

from bot.brief import Brief, UpcomingItem, compose_brief
from bot.cli import EXIT_CONFIG, EXIT_NOT_FOUND, EXIT_OK, main
from bot.export.docx import brief_to_docx
from bot.factbase import FactBase

TODAY = dt.date(2026, 11, 23)


pytestmark = pytest.mark.usefixtures("default_settings")


def brief_on(factbase: FactBase, topic_id: str, *, full: bool = False) -> Brief:
    return compose_brief(
        factbase, topic_id, query=topic_id, resolved_by="alias", today=TODAY, full=full
    )


def paragraphs(data: bytes) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph of the body, in order."""
    document = docx.Document(io.BytesIO(data))
    return [(p.style.name if p.style else "", p.text) for p in document.paragraphs]


def check_document(data: bytes, brief: Brief) -> None:
    """Everything the brief says is in the document `data`, where a Word user expects it."""
    document = docx.Document(io.BytesIO(data))
    body = paragraphs(data)
    styled = {style: [text for s, text in body if s == style] for style, _ in body}
    assert styled["Title"] == [brief.title]
    (as_of,) = styled["Subtitle"]
    assert as_of.startswith(f"As of {brief.as_of_label} (newest cited source")
    assert f"· {len(brief.sources)} source" in as_of
    warnings = styled.get("Stale Warning", [])
    assert warnings == ([f"Possibly out of date: {brief.stale_reason}."] if brief.stale else [])
    assert [
        h for h in styled["Heading 1"] if h in {"Summary", "Key facts", "Notes", "Sources"}
    ] == ["Summary", "Key facts", "Notes", "Sources"]
    # Key facts: numbered by the List Number style, each with its citation marks.
    facts = styled["List Number"]
    assert len(facts) == len(brief.facts)
    for text, fact in zip(facts, brief.facts, strict=True):
        assert text.startswith(fact.statement)
        assert "".join(f"[{n}]" for n in fact.citations) in text
    # Notes: one per source, with every verbatim quote in the Quote style.
    notes = styled["Heading 2"]
    assert notes == [f"[{s.n}] {s.title}" for s in brief.sources]
    quotes = "\n".join(styled.get("Quote", []))
    for fact in brief.facts:
        for quote in fact.quotes:
            assert f"“{quote.text}”" in quotes
    text = "\n".join(t for _, t in body)
    for source in brief.sources:
        assert f"[{source.n}] {source.title}. {source.publisher}, {source.date_label}" in text
        assert source.url in text
    links = {
        rel.target_ref
        for rel in document.part.rels.values()
        if rel.reltype == RELATIONSHIP_TYPE.HYPERLINK
    }
    assert links == {s.url for s in brief.sources}
    # Every citation number the brief uses is a mark somewhere in the text.
    for n in {n for line in brief.summary for n in line.citations}:
        assert f"[{n}]" in text
    if brief.timeline:
        (table,) = document.tables
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        assert rows[0] == ["Date", "What happened", "Sources"]
        assert [r[0] for r in rows[1:]] == [f.date_label for f in brief.timeline]
    assert document.core_properties.title == brief.title


@pytest.mark.parametrize(
    ("topic_id", "full"), [("nato", False), ("rok", False), ("pacific-security", True)]
)
def test_the_document_holds_every_citation_quote_and_source(
    factbase: FactBase, topic_id: str, full: bool
) -> None:
    brief = brief_on(factbase, topic_id, full=full)
    assert brief.facts and brief.sources
    check_document(brief_to_docx(brief), brief)


def test_a_current_brief_has_no_warning_and_upcoming_dates_are_listed(factbase: FactBase) -> None:
    brief = replace(
        brief_on(factbase, "rok"),
        stale=False,
        stale_reason=None,
        upcoming=(UpcomingItem("Tue 1 Dec", "Anniversary of the FTA"),),
    )
    data = brief_to_docx(brief)
    check_document(data, brief)
    assert ("List Bullet", "Tue 1 Dec: Anniversary of the FTA") in paragraphs(data)


def test_text_xml_cannot_hold_is_dropped_not_an_error(factbase: FactBase) -> None:
    brief = replace(brief_on(factbase, "nato"), title="NATO\x0b and\x00 NZ")
    assert paragraphs(brief_to_docx(brief))[0] == ("Title", "NATO and NZ")


# --- the command line ----------------------------------------------------------------------------


def test_cli_writes_the_docx_of_the_brief(
    factbase: FactBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nato.docx"
    code = main(["brief", "nato", "--format", "docx", "-o", str(target), "--today", "2026-11-23"])
    assert code == EXIT_OK
    assert f"wrote {target}: New Zealand and NATO" in capsys.readouterr().out
    check_document(target.read_bytes(), brief_on(factbase, "nato"))


def test_cli_docx_without_a_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["brief", "nato", "--format", "docx"]) == EXIT_CONFIG
    assert capsys.readouterr().err == "briefbot: --format docx needs -o FILE\n"
    assert main(["brief", "nato", "-o", str(tmp_path / "x.txt")]) == EXIT_CONFIG
    assert capsys.readouterr().err == "briefbot: -o FILE is for --format docx\n"
    assert list(tmp_path.iterdir()) == []


def test_cli_docx_of_an_unknown_topic_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.docx"
    assert main(["brief", "zzqx", "--format", "docx", "-o", str(target)]) == EXIT_NOT_FOUND
    assert 'No topic matches "zzqx"' in capsys.readouterr().out
    assert not target.exists()


def test_cli_docx_of_something_not_a_brief_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.docx"
    assert main(["brief", "topics", "--format", "docx", "-o", str(target)]) == EXIT_CONFIG
    assert capsys.readouterr().err == (
        "briefbot: only a brief can be written as .docx; nothing written\n"
    )
    assert not target.exists()


@pytest.mark.parametrize("where", ["missing/x.docx", "."])
def test_cli_docx_to_an_unwritable_path_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    target = tmp_path / where
    assert main(["brief", "nato", "--format", "docx", "-o", str(target)]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith(f"briefbot: cannot write {target}: ")
    assert err.count("\n") == 1
