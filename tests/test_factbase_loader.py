"""The loader verifies everything and reports every problem with file and line."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from bot.dates import DateSpan, PartialDate
from bot.factbase import load_factbase
from bot.factbase.loader import LoadReport
from bot.factbase.problems import iter_problem_lines
from tests.conftest import SEEDS
from tests.seedkit import DOC, fact_yaml, make_seeds, topics_yaml


def messages(seeds: Path) -> list[str]:
    return [str(p) for p in load_factbase(seeds).problems]


def errors(seeds: Path) -> list[str]:
    return [str(p) for p in load_factbase(seeds).errors]


def test_clean_seeds_load_with_verified_quote(tmp_path: Path) -> None:
    report = load_factbase(make_seeds(tmp_path))
    assert report.errors == []
    fb = report.require()
    fact = fb.facts["f1"]
    assert fact.date == DateSpan(PartialDate(2021, 3, 3))
    assert fb.documents["doc-one"].published == PartialDate(2021, 3)
    assert fb.facts_for("alpha") == (fact,)
    assert len(fb.version) == 12


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = fact_yaml("f1") + "- id: f2\n  topics: [alpha\n  statement: x\n"
    found = errors(make_seeds(tmp_path, facts=broken))
    assert len(found) == 1
    assert found[0].startswith("seeds/facts/main.yaml:")
    line = int(found[0].split(":")[1])
    assert line in (8, 9)
    assert "YAML syntax" in found[0]


def test_missing_and_unknown_fields_are_each_reported(tmp_path: Path) -> None:
    facts = (
        "- id: f1\n  topics: [alpha]\n  statment: typo\n  source: doc-one\n  quote: Ministers met\n"
    )
    found = errors(make_seeds(tmp_path, facts=facts))
    assert any("main.yaml:3:" in m and "unknown field 'statment'" in m for m in found)
    assert any("main.yaml:1:" in m and "missing field 'statement'" in m for m in found)


@pytest.mark.parametrize("bad", ["2021-13", "2021-02-30", "March 2021", "21-03-03", "2024/2021"])
def test_malformed_dates_are_errors_on_their_line(tmp_path: Path, bad: str) -> None:
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1", date=bad)))
    assert len(found) == 1
    assert "main.yaml:4:" in found[0] and "date" in found[0]


def test_duplicate_fact_id_points_at_the_first(tmp_path: Path) -> None:
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1") + fact_yaml("f1")))
    assert found == [
        "seeds/facts/main.yaml:7: error: duplicate fact id 'f1' (first at seeds/facts/main.yaml:1)"
    ]


def test_unknown_source_and_topic(tmp_path: Path) -> None:
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1", topics="[beta]", source="nope")))
    assert any("unknown topic 'beta'" in m and "main.yaml:2:" in m for m in found)
    assert any("unknown source 'nope'" in m and "main.yaml:5:" in m for m in found)


def test_quote_not_in_document_is_an_error(tmp_path: Path) -> None:
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1", quote="Ministers met in Auckland")))
    assert len(found) == 1
    assert "main.yaml:6:" in found[0] and "does not occur in seeds/documents/doc-one.md" in found[0]


def test_quote_comparison_ignores_only_whitespace_and_typographic_marks(tmp_path: Path) -> None:
    ok = fact_yaml("f1", quote='agreed a \\"Pacific Resilience Plan\\" - worth NZ$5 million')
    assert errors(make_seeds(tmp_path / "a", facts=ok)) == []
    spaced = fact_yaml("f1", quote="The plan covers fisheries patrols")
    assert errors(make_seeds(tmp_path / "b", facts=spaced)) == []
    case = fact_yaml("f1", quote="the plan covers fisheries patrols")
    assert len(errors(make_seeds(tmp_path / "c", facts=case))) == 1
    punctuation = fact_yaml("f1", quote="Ministers met in Wellington on 3 March 2021,")
    assert len(errors(make_seeds(tmp_path / "d", facts=punctuation))) == 1


@pytest.mark.parametrize(
    "quote",
    ["We use cookies to improve", "Share this page", "A different article about NATO enlargement"],
)
def test_quotes_from_web_page_noise_are_rejected(tmp_path: Path, quote: str) -> None:
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1", quote=quote)))
    assert len(found) == 1 and "lies in web-page noise" in found[0]


def test_noise_entry_that_starts_no_line_is_an_error(tmp_path: Path) -> None:
    doc = DOC.format(id="doc-one", title="T", published="", url="", kind="analysis").replace(
        '"Share this page"', '"Nothing like this"'
    )
    found = errors(make_seeds(tmp_path, documents={"doc-one": doc}))
    assert any("starts no line" in m for m in found)


def test_document_front_matter_errors(tmp_path: Path) -> None:
    doc = DOC.format(id="doc-one", title="T", published="2021-3", url="", kind="blog")
    found = errors(make_seeds(tmp_path, documents={"doc-one": doc}))
    assert any("doc-one.md:6:" in m and "published" in m for m in found)
    assert any("doc-one.md:8:" in m and "kind 'blog'" in m for m in found)


def test_document_without_front_matter(tmp_path: Path) -> None:
    found = errors(make_seeds(tmp_path, documents={"doc-one": "just text\n"}))
    assert any("doc-one.md:1:" in m and "no front-matter block" in m for m in found)


def test_summary_citing_unknown_fact_and_shared_alias(tmp_path: Path) -> None:
    topics = topics_yaml("alpha", summary_fact="ghost") + topics_yaml("beta").replace(
        "[beta alias, the beta]", "[alpha alias]"
    )
    found = errors(
        make_seeds(tmp_path, topics=topics, facts=fact_yaml("f1", topics="[alpha, beta]"))
    )
    assert any("summary cites unknown fact 'ghost'" in m for m in found)
    assert any("alias 'alpha alias' is already a name of topic 'alpha'" in m for m in found)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    facts = (
        fact_yaml("f1")
        + fact_yaml("f2", date="2021-99")
        + fact_yaml("f3", source="nope")
        + fact_yaml("f4", quote="not there")
    )
    assert len(errors(make_seeds(tmp_path, facts=facts))) == 3


def test_warnings_for_uncited_documents_and_thin_topics(tmp_path: Path) -> None:
    docs = {
        "doc-one": DOC.format(id="doc-one", title="One", published="2021", url="", kind="official"),
        "doc-two": DOC.format(id="doc-two", title="Two", published="", url="", kind="commentary"),
    }
    report = load_factbase(make_seeds(tmp_path, documents=docs))
    assert report.errors == []
    warnings = [str(w) for w in report.warnings]
    assert any("'doc-two' is cited by no fact" in w for w in warnings)
    assert any("topic 'alpha' has 1 fact(s)" in w for w in warnings)


def test_importance_kind_and_also_are_validated(tmp_path: Path) -> None:
    extra = (
        "importance: 5\nkind: rumour\nalso:\n  - source: doc-one\n    quote: nowhere to be found\n"
    )
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1", extra=extra)))
    assert any("importance must be 1, 2 or 3" in m for m in found)
    assert any("kind 'rumour'" in m for m in found)
    assert any("quote 'nowhere to be found' does not occur" in m for m in found)


def test_corroborated_fact_keeps_every_citation(tmp_path: Path) -> None:
    extra = "also:\n  - source: doc-one\n    quote: covers fisheries patrols\n"
    fb = load_factbase(make_seeds(tmp_path, facts=fact_yaml("f1", extra=extra))).require()
    assert [c.quote for c in fb.facts["f1"].citations] == [
        "Ministers met in Wellington",
        "covers fisheries patrols",
    ]


# --- root causes first, cascades folded -------------------------------------------------------


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A copy of the bundled seeds, to break."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_topics_file_that_does_not_parse_is_the_only_error(bundled: Path) -> None:
    edit(bundled / "topics.yaml", "- id: nato\n", "- id: nato\n  title: [oops\n")
    report = load_factbase(bundled)
    (error,) = report.errors
    assert str(error).startswith("seeds/topics.yaml:") and "YAML syntax" in error.message
    folded = [p for p in report.warnings if "cite topics" in p.message]
    assert [str(p) for p in folded] == [
        f"seeds/topics.yaml:0: warning: {len(load_factbase(SEEDS).require().facts)} fact(s) "
        "cite topics that could not be read (see the error above)"
    ]


def test_one_topic_mistake_is_one_error_not_one_per_fact(bundled: Path) -> None:
    edit(bundled / "topics.yaml", "- id: nato\n", "- id: nato\n  colour: blue\n")
    report = load_factbase(bundled)
    assert [p.message for p in report.errors] == [
        "topic 'nato': unknown field 'colour' (allowed: aliases, id, reviewed, summary, title)"
    ]
    nato_facts = len(load_factbase(SEEDS).require().facts_for("nato"))
    assert f"{nato_facts} fact(s) cite topic 'nato', which did not load (see the error above)" in [
        p.message for p in report.warnings
    ]


def test_a_fact_citing_a_topic_that_exists_nowhere_is_still_an_error(bundled: Path) -> None:
    edit(bundled / "topics.yaml", "- id: nato\n", "- id: nato\n  colour: blue\n")
    path = bundled / "facts" / "mfat-regional-security.yaml"
    edit(path, "topics: [", "topics: [natto, ")
    messages = [p.message for p in load_factbase(bundled).errors]
    assert len(messages) == 2 and messages[1].endswith(": unknown topic 'natto'")


def test_a_document_that_does_not_load_is_one_error_not_one_per_citing_fact(
    bundled: Path,
) -> None:
    document = bundled / "documents" / "capie-nz-nato-vilnius-2023.md"
    edit(document, "title:", "colour: blue\ntitle:")
    report = load_factbase(bundled)
    (error,) = report.errors
    assert error.path == f"seeds/documents/{document.name}"
    assert any(
        f"cite source '{document.stem}', which did not load" in p.message for p in report.warnings
    )


def test_unreadable_files_come_first_in_the_problem_lines(bundled: Path) -> None:
    edit(bundled / "facts" / "mfat-regional-security.yaml", "quote: ", "quote: Not in it ")
    edit(bundled / "topics.yaml", "- id: nato\n", "- id: nato\n  title: [oops\n")
    lines = iter_problem_lines(load_factbase(bundled).problems)
    assert "seeds/topics.yaml" in lines[0] and "YAML syntax" in lines[0]
    assert "does not occur" in lines[1]


def test_a_fifo_among_the_seeds_is_reported_not_read(bundled: Path) -> None:
    os.mkfifo(bundled / "facts" / "pipe.yaml")
    reports: list[LoadReport] = []
    loading = threading.Thread(target=lambda: reports.append(load_factbase(bundled)), daemon=True)
    loading.start()
    loading.join(timeout=60)  # opening the FIFO would block for ever: the load must not
    assert not loading.is_alive()
    assert [str(p) for p in reports[0].errors] == [
        "seeds/facts/pipe.yaml:0: error: not a regular file (a FIFO, socket or device?): not read"
    ]


def test_a_duplicate_key_is_reported_with_file_and_line(bundled: Path) -> None:
    path = bundled / "facts" / "mfat-regional-security.yaml"
    text = path.read_text()
    first_quote = text.index("  quote: ")
    line = text[:first_quote].count("\n") + 2
    path.write_text(text[:first_quote] + "  quote: again\n" + text[first_quote:])
    (error,) = load_factbase(bundled).errors
    assert str(error).startswith(
        f"seeds/facts/mfat-regional-security.yaml:{line}: error: "
        "YAML syntax: duplicate key 'quote' in the mapping"
    )


def test_a_missing_topics_file_is_one_error(bundled: Path) -> None:
    (bundled / "topics.yaml").unlink()
    report = load_factbase(bundled)
    assert [str(p) for p in report.errors] == ["seeds/topics.yaml:0: error: topics.yaml is missing"]


def test_an_item_that_is_not_a_mapping_is_reported_on_its_own_line(tmp_path: Path) -> None:
    """Fact files, topics and reminder rules share one loader: a stray item names its line."""
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1") + "- just text\n"))
    lines = len(fact_yaml("f1").splitlines())
    assert found == [
        f"seeds/facts/main.yaml:{lines + 1}: error: each fact must be a mapping "
        "(id, topics, statement, ...)"
    ]


def test_an_id_ending_in_a_newline_is_not_a_slug(tmp_path: Path) -> None:
    """`^...$` let "f1\\n" (a YAML block scalar) pass as an id; ids now match in full."""
    found = errors(make_seeds(tmp_path, facts=fact_yaml("f1").replace("id: f1", 'id: "f1\\n"')))
    assert any("main.yaml:1:" in m and "id must be a slug" in m for m in found), found
