"""Builds small seeds directories for tests, so each test states exactly the data it is about."""

from __future__ import annotations

import textwrap
from pathlib import Path

DOC_BODY = """Ministers met in Wellington on 3 March 2021.
They agreed a “Pacific Resilience Plan” – worth NZ$5 million – to run to 2027.
The plan   covers
fisheries patrols and cyber security.
Share this page
We use cookies to improve your browsing experience.
Related Publications
A different article about NATO enlargement in 2024.
"""

DOC = (
    """---
id: {id}
title: {title}
publisher: Ministry of Examples
author: ""
published: "{published}"
url: "{url}"
kind: {kind}
noise:
  - "We use cookies"
  - "Share this page"
noise_after: "Related Publications"
---
"""
    + DOC_BODY
)


STATEMENTS = (
    "Ministers met.",
    "A plan was agreed.",
    "Fisheries patrols began.",
    "Cyber security talks opened.",
    "Trade doubled over ten years.",
    "Defence exercises took place.",
    "Officials reviewed crime data.",
    "Envoys signed an accord.",
    "A summit was convened.",
    "Parliament passed a law.",
)
"""Distinct default statements, so that facts a test does not word never read as duplicates."""


def _default_statement(fid: str) -> str:
    digits = "".join(c for c in fid if c.isdigit())
    return STATEMENTS[(int(digits) - 1) % len(STATEMENTS) if digits else 0]


def fact_yaml(
    fid: str,
    *,
    topics: str = "[alpha]",
    statement: str | None = None,
    date: str = "2021-03-03",
    source: str = "doc-one",
    quote: str = "Ministers met in Wellington",
    extra: str = "",
) -> str:
    """One fact as YAML list item text (a distinct default statement per numbered id)."""
    text = f"""- id: {fid}
  topics: {topics}
  statement: {statement or _default_statement(fid)}
  date: "{date}"
  source: {source}
  quote: "{quote}"
"""
    return text + textwrap.indent(textwrap.dedent(extra), "  ") if extra else text


def topics_yaml(*ids: str, summary_fact: str = "f1") -> str:
    """Topics with two-sentence summaries citing `summary_fact`."""
    out = []
    for tid in ids:
        out.append(f"""- id: {tid}
  title: Topic {tid.title()}
  aliases: [{tid} alias, the {tid}]
  summary:
    - text: First sentence about {tid}.
      facts: [{summary_fact}]
    - text: Second sentence about {tid}.
      facts: [{summary_fact}]
""")
    return "".join(out)


def make_seeds(
    root: Path,
    *,
    facts: str | None = None,
    topics: str | None = None,
    documents: dict[str, str] | None = None,
) -> Path:
    """Write a seeds directory under `root` and return it."""
    seeds = root / "seeds"
    (seeds / "documents").mkdir(parents=True, exist_ok=True)
    (seeds / "facts").mkdir(exist_ok=True)
    docs = (
        documents
        if documents is not None
        else {
            "doc-one": DOC.format(
                id="doc-one",
                title="Doc One",
                published="2021-03",
                url="https://example.org/one",
                kind="official",
            ),
        }
    )
    for doc_id, text in docs.items():
        (seeds / "documents" / f"{doc_id}.md").write_text(text, encoding="utf-8")
    (seeds / "topics.yaml").write_text(
        topics if topics is not None else topics_yaml("alpha"), encoding="utf-8"
    )
    (seeds / "facts" / "main.yaml").write_text(
        facts if facts is not None else fact_yaml("f1"), encoding="utf-8"
    )
    return seeds
