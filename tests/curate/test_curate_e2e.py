"""Acceptance: a web page and a PDF become facts in briefs, with every quote still verified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml
from fpdf import FPDF

from tests.conftest import ROOT
from tests.curate.conftest import FIXTURES, Page, PageServer, cli

PDF_TEXT = (
    "Joint Press Release\n\n"
    "New Zealand and the Republic of Korea launched a Climate Resilience Partnership for the "
    "Pacific on 9 February 2026, with initial funding of NZ$5 million.\n\n"
    "Both governments will report on the partnership's first projects by June 2027."
)


def make_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.set_title("Joint Press Release on the New Zealand-Korea Climate Partnership")
    pdf.set_author("Ministry of Foreign Affairs and Trade")
    pdf.set_creation_date(dt.datetime(2026, 2, 10, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, PDF_TEXT)
    path.write_bytes(bytes(pdf.output()))


def pick(draft: Path, start: str) -> str:
    items = yaml.safe_load(draft.read_text(encoding="utf-8"))
    return next(str(c["id"]) for c in items if str(c["quote"]).startswith(start))


def test_page_and_pdf_to_facts_in_search_and_brief(
    seeds: Path, page_server: PageServer, tmp_path: Path
) -> None:
    html = (FIXTURES / "rok-nz-critical-minerals.html").read_bytes()
    page_server.pages["/2026/03/nz-korea-critical-minerals"] = Page(html)
    pdf = tmp_path / "climate-partnership.pdf"
    make_pdf(pdf)

    code, out = cli(
        "ingest", page_server.url("/2026/03/nz-korea-critical-minerals"), "--id", "wire-minerals"
    )
    assert code == 0, out
    assert "  published: 2026-03-12 (declared)" in out
    code, out = cli("ingest", str(pdf), "--id", "climate-release", "--kind", "official")
    assert code == 0, out
    assert (
        "  title: Joint Press Release on the New Zealand-Korea Climate Partnership (declared)"
        in out
    )
    assert "  published: 2026-02-10 (inferred: the PDF's creation date)" in out

    assert cli("draft", "wire-minerals")[0] == 0
    assert cli("draft", "climate-release")[0] == 0
    minerals = pick(seeds / "drafts" / "wire-minerals.yaml", "New Zealand and the Republic")
    climate = pick(seeds / "drafts" / "climate-release.yaml", "New Zealand and the Republic")
    assert cli("accept", "wire-minerals", minerals)[0] == 0
    assert cli("accept", "climate-release", climate)[0] == 0

    code, out = cli("check")
    assert code == 0, out
    bundled = len(list((ROOT / "seeds" / "documents").glob("*.md")))
    assert out.splitlines()[-1].startswith(f"ok: {bundled + 2} documents")

    code, out = cli("search", "critical", "minerals", "--format", "json")
    assert code == 0
    hits = [hit["id"] for hit in json.loads(out)]
    assert hits[0] == minerals, hits  # the best match; other facts may mention "critical"

    code, out = cli("brief", "rok", "--full", "--format", "json")
    brief = json.loads(out)
    facts = {f["id"]: f for f in brief["facts"]}
    assert minerals in facts and climate in facts
    assert facts[minerals]["statement"].startswith("Pacific Wire (12 March 2026) reported that")
    assert facts[climate]["date"] == "2026-02-09"
    sources = {s["id"]: s for s in brief["sources"]}
    assert sources["wire-minerals"] == {
        "n": sources["wire-minerals"]["n"],
        "id": "wire-minerals",
        "title": "New Zealand and Korea sign critical minerals arrangement",
        "publisher": "Pacific Wire",
        "date": "2026-03-12",
        "url": "https://news.example.org/2026/03/nz-korea-critical-minerals",
        "kind": "news",
    }
    assert sources["climate-release"]["date"] == "2026-02-10"
    assert sources["climate-release"]["publisher"] == "Unknown publisher"

    code, out = cli("brief", "rok", "--full")
    assert (
        "New Zealand and Korea sign critical minerals arrangement. Pacific Wire, 12 March 2026 "
        "(news). https://news.example.org/2026/03/nz-korea-critical-minerals"
    ) in out
    assert "10 February 2026, inferred" in out
