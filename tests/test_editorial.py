"""`briefbot check --editorial`: each way a brief can mislead while its quotes stay verbatim."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, EXIT_OK, main
from bot.editorial import editorial_review
from bot.factbase import load_factbase
from tests.seedkit import DOC, fact_yaml, make_seeds

TODAY = dt.date(2026, 11, 23)
ROOT = Path(__file__).resolve().parent.parent

ANALYSIS = DOC.format(
    id="doc-two", title="Two", published="2020-05", url="", kind="analysis"
).replace("noise:\n", 'author: "Ann Analyst"\noutlet: "Think Tank"\nnoise:\n', 1)
ANALYSIS = ANALYSIS.replace('author: ""\n', "", 1)

TOPICS = """- id: alpha
  title: Alpha
  aliases: [the alpha]
  summary:
    - text: Ministers met and a plan was agreed.
      facts: [f1]
    - text: The government sees the plan as crucial.
      facts: [f2]
- id: beta
  title: Beta
  aliases: [the beta]
  reviewed: 2026-11-01
  summary:
    - text: Ministers met.
      facts: [f1]
    - text: Ministers met again.
      facts: [f1]
"""

FACTS = (
    fact_yaml("f1", topics="[alpha, beta]")  # line 1
    + fact_yaml(  # line 7: analysis whose speaker was removed
        "f2",
        source="doc-two",
        statement="the government sees the plan as crucial.",
        extra='said_by: ""\n',
    )
    + fact_yaml(  # line 14: attribution written by hand
        "f3", source="doc-two", statement="According to Analyst, patrols began.", date=""
    )
    + fact_yaml(  # line 20: a lapsed target, in the present tense
        "f4",
        statement="Ministers aim to adopt a framework in 2025.",
        date="",
        extra="due: 2025\n",
    )
    + fact_yaml(  # line 27: the same as f1 in other words
        "f5", statement="Ministers met!", quote="Ministers met in Wellington on 3 March"
    )
    + fact_yaml("f6", topics="[]")  # line 33: used by no topic
    + fact_yaml(  # line 39: reviewed after it lapsed: not reported again
        "f7",
        statement="Officials set the aim of a review by 2024.",
        date="",
        extra="due: 2024\nreviewed: 2026-11-01\n",
    )
    + fact_yaml(  # line 47: the clause would read "judged that The …"
        "f8", source="doc-two", statement="The plan covers fisheries.", date=""
    )
)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    docs = {
        "doc-one": DOC.format(
            id="doc-one", title="One", published="2021-03", url="", kind="official"
        ),
        "doc-two": ANALYSIS,
    }
    return make_seeds(tmp_path, documents=docs, facts=FACTS, topics=TOPICS)


def _warnings(seeds: Path) -> list[str]:
    factbase = load_factbase(seeds).require()
    return [str(p) for p in editorial_review(factbase, today=TODAY, stale_days=365)]


def test_each_editorial_problem_is_reported_with_file_and_line(seeds: Path) -> None:
    found = _warnings(seeds)
    expected = [
        ("seeds/facts/main.yaml:7:", "fact 'f2': unattributed analysis: said_by is empty"),
        ("seeds/facts/main.yaml:14:", "fact 'f3': attribution written into the statement"),
        ("seeds/facts/main.yaml:20:", "fact 'f4': lapsed target: due 2025 has passed"),
        ("seeds/facts/main.yaml:20:", "fact 'f4': a target due 2025 is written in the present"),
        ("seeds/facts/main.yaml:27:", "fact 'f5': says much the same as 'f1'"),
        ("seeds/facts/main.yaml:33:", "fact 'f6': used by no topic"),
        ("seeds/facts/main.yaml:47:", "fact 'f8': the analysis statement reads '… that The …'"),
        ("seeds/topics.yaml:1:", "topic 'alpha': its newest source (March 2021)"),
        ("seeds/topics.yaml:7:", "topic 'alpha': a summary sentence rests on"),
    ]
    for where, what in expected:
        assert any(line.startswith(where) and what in line for line in found), (where, what)
    assert all(": warning: " in line for line in found)
    assert not any("'f7'" in line for line in found), "a reviewed lapse is not reported again"
    assert not any("topic 'beta': its newest" in line for line in found), "reviewed recently"
    assert len(found) == len(expected)


def _cli(*argv: str, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_editorial_warnings_exit_zero_unless_strict(
    seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _cli(
        "check", "--editorial", "--today", TODAY.isoformat(), seeds=seeds, monkeypatch=monkeypatch
    )
    assert code == EXIT_OK, text
    assert "seeds/facts/main.yaml:33: warning: fact 'f6': used by no topic" in text
    strict, text = _cli(
        "check",
        "--editorial",
        "--strict",
        "--today",
        TODAY.isoformat(),
        seeds=seeds,
        monkeypatch=monkeypatch,
    )
    assert strict == EXIT_CONFIG
    assert text.rstrip().endswith("--strict: 9 editorial warning(s)")


def test_plain_check_does_not_review(seeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, text = _cli("check", seeds=seeds, monkeypatch=monkeypatch)
    assert code == EXIT_OK
    assert "used by no topic" not in text


def test_the_bundled_seeds_pass_the_strict_editorial_review(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, text = _cli(
        "check", "--editorial", "--strict", seeds=ROOT / "seeds", monkeypatch=monkeypatch
    )
    assert code == EXIT_OK, text
    assert "(0 editorial)" in text
