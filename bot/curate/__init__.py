"""The curator's side of Briefbot: bring a document in, draft facts from it, accept them, review.

`briefbot ingest` reads a file or web page into `seeds/documents/`, `briefbot draft` proposes
candidate facts in `seeds/drafts/` (never served), `briefbot accept` moves the chosen ones into
`seeds/facts/` only if the whole fact base still verifies, and `briefbot review` lists what is
out of date. Nothing here calls a hosted model: every step is a rule a curator can read.
"""

from __future__ import annotations


class CurateRefused(Exception):
    """A curator's command refused, with the one line that says why; nothing was written."""
