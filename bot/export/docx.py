"""A brief as a Word document (.docx), for a minister's pack or an email.

The document says what the Slack message says, in the same order and with the same source
numbers: title, as-of line and staleness banner, summary, key facts, timeline (a table),
upcoming dates, then "Notes" and "Sources". Citations are endnote-style: `[n]` in the text
points to note n, which gives source n's title, publisher, date and URL and every verbatim
quote the brief relies on from it (python-docx has no footnote API, and hand-made footnote
parts are easy to get subtly wrong for Word). Everything is set in named styles (Title,
Subtitle, Heading 1/2, List Number, Quote, and the custom "Stale Warning" and "Citation"), so a
Word user can restyle the whole document at once.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import docx
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from docx.text.paragraph import Paragraph

from bot.brief import Brief, BriefFact, SourceEntry

WARNING_STYLE = "Stale Warning"
"""The paragraph style of the "possibly out of date" banner."""
CITATION_STYLE = "Citation"
"""The character style of `[n]` citation marks."""
LINK_STYLE = "Source Link"
"""The character style of URLs."""
TIMELINE_WIDTHS = (Inches(1.3), Inches(4.2), Inches(0.9))
"""Widths of the timeline's date, event and sources columns."""

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def brief_to_docx(brief: Brief) -> bytes:
    """The brief as the bytes of a .docx file."""
    document = docx.Document()
    _add_styles(document)
    props = document.core_properties
    props.title = _clean(brief.title)
    props.subject = "Briefbot brief"
    props.keywords = brief.topic_id
    props.author = "Briefbot"

    document.add_paragraph(_clean(brief.title), style="Title")
    document.add_paragraph(_as_of_line(brief), style="Subtitle")
    if brief.stale and brief.stale_reason:
        document.add_paragraph(
            _clean(f"Possibly out of date: {brief.stale_reason}."), style=WARNING_STYLE
        )

    if brief.summary:
        document.add_heading("Summary", level=1)
        summary = document.add_paragraph()
        for line in brief.summary:
            summary.add_run(_clean(line.text))
            _cite(summary, line.citations)
            summary.add_run(" ")

    document.add_heading("Key facts", level=1)
    for fact in brief.facts:
        _add_fact(document, fact)
    if brief.omitted:
        how = "" if brief.full else " (ask for the full brief for every fact)"
        document.add_paragraph(f"{brief.omitted} more facts are not shown{how}.")

    if brief.timeline:
        document.add_heading("Timeline", level=1)
        _add_timeline(document, brief.timeline)

    if brief.upcoming:
        document.add_heading("Upcoming", level=1)
        for item in brief.upcoming:
            document.add_paragraph(_clean(f"{item.when}: {item.label}"), style="List Bullet")

    document.add_heading("Notes", level=1)
    for source in brief.sources:
        _add_note(document, source, brief.facts)

    document.add_heading("Sources", level=1)
    for source in brief.sources:
        entry = document.add_paragraph(
            _clean(f"[{source.n}] {source.title}. {source.publisher}, {source.date_label} ")
            + f"({source.kind}). "
        )
        _add_link(entry, source.url)

    footer = document.sections[0].footer.paragraphs[0]
    footer.text = f"Briefbot brief on {_clean(brief.title)}, prepared {brief.today.isoformat()}"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _as_of_line(brief: Brief) -> str:
    undated = sum(1 for s in brief.sources if s.date is None)
    extra = f"; {undated} undated" if undated else ""
    return _clean(
        f"As of {brief.as_of_label} (newest cited source{extra}) · "
        f"{len(brief.sources)} source{'' if len(brief.sources) == 1 else 's'} · "
        f"prepared {brief.today.isoformat()}"
    )


def _add_fact(document: Document, fact: BriefFact) -> None:
    """A key fact: the statement, its citation marks, its date and standing."""
    paragraph = document.add_paragraph(_clean(fact.statement), style="List Number")
    _cite(paragraph, fact.citations)
    if fact.when_label:
        paragraph.add_run(_clean(f" ({fact.when_label})")).italic = True
    if fact.commentary_only:
        paragraph.add_run(" [commentary only]").italic = True


def _add_timeline(document: Document, timeline: Iterable[BriefFact]) -> None:
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, heading in zip(
        table.rows[0].cells, ("Date", "What happened", "Sources"), strict=True
    ):
        cell.paragraphs[0].add_run(heading).bold = True
    for fact in timeline:
        when, what, cited = table.add_row().cells
        when.text = _clean(fact.date_label or "")
        said = f" (per {fact.said_by})" if fact.attributed else ""
        what.text = _clean(fact.claim + said)
        cited.text = " ".join(f"[{n}]" for n in fact.citations)
    table.autofit = False
    for column, width in zip(table.columns, TIMELINE_WIDTHS, strict=True):
        column.width = width  # the grid, which LibreOffice reads
        for cell in column.cells:
            cell.width = width  # each cell, which Word reads


def _add_note(document: Document, source: SourceEntry, facts: tuple[BriefFact, ...]) -> None:
    """Note n: source n's title, publisher, date and URL, and each verbatim quote from it with
    the key facts it supports."""
    document.add_heading(_clean(f"[{source.n}] {source.title}"), level=2)
    details = document.add_paragraph(_clean(f"{source.publisher}, {source.date_label}. "))
    _add_link(details, source.url)
    supports: dict[str, list[int]] = {}
    for index, fact in enumerate(facts, 1):
        for quote in fact.quotes:
            if quote.n == source.n:
                supports.setdefault(quote.text, []).append(index)
    if not supports:
        document.add_paragraph("Cited in the summary.")
    for text, numbers in supports.items():
        label = "key fact" if len(numbers) == 1 else "key facts"
        which = ", ".join(str(n) for n in numbers)
        document.add_paragraph(_clean(f"“{text}” ({label} {which})"), style="Quote")


def _cite(paragraph: Paragraph, numbers: Iterable[int]) -> None:
    marks = "".join(f"[{n}]" for n in numbers)
    if marks:
        paragraph.add_run(" ")
        paragraph.add_run(marks, style=CITATION_STYLE)


def _add_link(paragraph: Paragraph, url: str) -> None:
    """`url` as a clickable link at the end of `paragraph` (python-docx has no hyperlink API)."""
    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = paragraph.add_run(_clean(url), style=LINK_STYLE)
    link.append(run._r)
    paragraph._p.append(link)


def _add_styles(document: Document) -> None:
    """The custom styles, built on the template's so that restyling Normal restyles them too."""
    styles = document.styles
    warning = styles.add_style(WARNING_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    warning.base_style = styles["Intense Quote"]
    warning.font.bold = True
    warning.font.color.rgb = RGBColor(0x9C, 0x1C, 0x1C)
    citation = styles.add_style(CITATION_STYLE, WD_STYLE_TYPE.CHARACTER)
    citation.font.superscript = True
    citation.font.size = Pt(9)
    link = styles.add_style(LINK_STYLE, WD_STYLE_TYPE.CHARACTER)
    link.font.underline = True
    link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)


def _clean(text: str) -> str:
    """`text` without the control characters XML (and so a .docx) cannot hold."""
    return _NOT_XML.sub("", text)
