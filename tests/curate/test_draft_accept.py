"""`briefbot draft` and `accept`: candidates by readable rules, moved only if check passes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.curate.draft import draft_document
from bot.curate.textdates import find_dates
from bot.dates import PartialDate
from bot.factbase import load_factbase
from tests.curate.conftest import FIXTURES, cli, snapshot

HTML = FIXTURES / "rok-nz-critical-minerals.html"
DOC = "nz-rok-minerals"


@pytest.fixture
def drafted(seeds: Path) -> Path:
    assert cli("ingest", str(HTML), "--id", DOC)[0] == 0
    code, out = cli("draft", DOC)
    assert code == 0, out
    return seeds / "drafts" / f"{DOC}.yaml"


def candidates(path: Path) -> dict[str, dict[str, object]]:
    return {item["id"]: item for item in yaml.safe_load(path.read_text(encoding="utf-8"))}


def test_find_dates_reads_the_usual_english_forms() -> None:
    found = find_dates("Signed on 11 March 2026, due by December 2027; March 4, 2025 and 2030.")
    assert [(d.date, d.before) for d in found] == [
        (PartialDate(2026, 3, 11), "on"),
        (PartialDate(2027, 12), "by"),
        (PartialDate(2025, 3, 4), "2027"),
        (PartialDate(2030), "and"),
    ]
    assert find_dates("NZ$2025 million and 2026% are not years") == []


def test_draft_chooses_sentences_with_signals_and_parses_their_dates(drafted: Path) -> None:
    found = candidates(drafted)
    quotes = {c["quote"]: c for c in found.values()}
    signed = next(c for q, c in quotes.items() if q.startswith("New Zealand and the Republic"))
    assert signed["date"] == "2026-03-11" and signed["kind"] == "event"
    assert signed["importance"] == 3  # a named initiative, decided
    assert signed["topics"] == ["rok"]
    assert signed["draft"]["topics"][0] == {
        "id": "rok",
        "score": 1.0,
        "how": "names alias 'republic of korea'",
    }
    assert "initiative: Critical Minerals Supply Chain Arrangement" in signed["draft"]["signals"]
    group = next(c for q, c in quotes.items() if q.startswith("Under the arrangement"))
    assert group["due"] == "2026-12" and group["kind"] == "commitment"
    money = next(c for q, c in quotes.items() if q.startswith("Korea will contribute"))
    assert "figure: NZ$12 million" in money["draft"]["signals"]
    # the headline repeats the title and carries no signal: not a candidate
    assert not any(q.startswith("New Zealand and Korea sign") for q in quotes)


def test_every_draft_quote_is_verbatim_and_the_draft_is_never_loaded(
    drafted: Path, seeds: Path
) -> None:
    text = drafted.read_text(encoding="utf-8")
    body = (seeds / "documents" / f"{DOC}.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    for candidate in candidates(drafted).values():
        assert " ".join(str(candidate["quote"]).split()) in " ".join(body.split())
    drafted.write_text(text + "- id: [broken\n", encoding="utf-8")  # the loader must not care
    report = load_factbase(seeds)
    assert report.factbase is not None, report.errors
    assert not any("drafts" in p.path for p in report.problems)


def test_quotes_already_used_by_facts_are_marked_not_repeated(seeds: Path) -> None:
    draft = draft_document(seeds, "rok-nz-joint-statement-2024")
    factbase = load_factbase(seeds).require()
    used = {" ".join(c.quote.split()) for f in factbase.facts.values() for c in f.citations}
    assert draft.used, "the joint statement's facts quote some of its sentences"
    assert all(c.used_by for c in draft.used)
    for candidate in draft.candidates:
        assert " ".join(candidate.quote.split()) not in used
    text = draft.to_yaml()
    assert "# Already quoted by a fact (not repeated):" in text
    assert all(c.id not in text for c in draft.used)


def test_draft_refuses_to_overwrite_a_draft(
    drafted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = drafted.read_bytes()
    assert cli("draft", DOC)[0] == 2
    assert "exists: accept or delete its candidates first" in capsys.readouterr().err
    assert drafted.read_bytes() == before


def test_draft_out_writes_elsewhere(drafted: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere.yaml"
    assert cli("draft", DOC, "--out", str(out))[0] == 0
    assert candidates(out).keys() == candidates(drafted).keys()


def test_accept_moves_the_named_candidates_without_their_annotations(
    drafted: Path, seeds: Path
) -> None:
    first, second, *rest = candidates(drafted)
    code, out = cli("accept", DOC, first, second)
    assert code == 0, out
    facts = yaml.safe_load((seeds / "facts" / f"{DOC}.yaml").read_text(encoding="utf-8"))
    assert [f["id"] for f in facts] == [first, second]
    assert all("draft" not in f for f in facts)
    assert list(candidates(drafted)) == rest
    assert "check: ok:" in out
    assert cli("accept", DOC, "--all")[0] == 0
    assert not drafted.exists()


def test_accept_that_breaks_the_base_moves_nothing_and_points_at_the_draft(
    drafted: Path, seeds: Path
) -> None:
    first = next(iter(candidates(drafted)))
    text = drafted.read_text(encoding="utf-8")
    broken = text.replace("  - rok\n", "  - no-such-topic\n", 1)
    drafted.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("  - no-such-topic") + 1
    before = snapshot(seeds)
    code, out = cli("accept", DOC, first)
    assert code == 2
    assert snapshot(seeds) == before  # both files byte for byte; no facts file created
    assert (
        f"drafts/{DOC}.yaml:{line - 1}: error: fact '{first}': unknown topic 'no-such-topic'" in out
    )
    assert "nothing moved" in out


def test_accept_refuses_an_unknown_candidate(
    drafted: Path, seeds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(seeds)
    assert cli("accept", DOC, "no-such-candidate")[0] == 2
    assert "no candidate 'no-such-candidate'" in capsys.readouterr().err
    assert snapshot(seeds) == before
