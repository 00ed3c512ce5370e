"""The curator's commands on the `briefbot` command line: ingest, draft, accept, review.

Each refusal is one line on standard error, exit 2, and nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.config import Settings
from bot.curate import CurateRefused
from bot.factbase.model import SourceKind

if TYPE_CHECKING:
    from bot.gaps import GapGroup

CURATE_COMMANDS = frozenset({"ingest", "draft", "accept", "review"})
EXIT_OK, EXIT_REFUSED = 0, 2


def add_curate_commands(sub: Any) -> None:
    """Add `ingest`, `draft`, `accept` and `review` to the `briefbot` sub-command parsers."""
    seeds = {"type": Path, "help": "the seeds folder (default: $BRIEFBOT_SEEDS_DIR or seeds/)"}
    ingest = sub.add_parser(
        "ingest", help="bring a document (.html, .txt, .md, .pdf file or http(s) URL) in"
    )
    ingest.add_argument("source", help="a file or an http(s) URL")
    ingest.add_argument("--id", dest="doc_id", help="the document's id (default: from its title)")
    ingest.add_argument(
        "--kind",
        choices=[k.value for k in SourceKind],
        default=SourceKind.NEWS.value,
        help="how authoritative it is (default: news, attributed to the outlet)",
    )
    ingest.add_argument("--seeds", **seeds)

    draft = sub.add_parser("draft", help="write candidate facts from a document to seeds/drafts/")
    draft.add_argument("doc_id", metavar="ID", help="the document's id")
    draft.add_argument("--out", type=Path, help="write here instead of seeds/drafts/ID.yaml")
    draft.add_argument("--seeds", **seeds)

    accept = sub.add_parser("accept", help="move drafted facts into seeds/facts/ if check passes")
    accept.add_argument("doc_id", metavar="ID", help="the document's id")
    accept.add_argument("fact_ids", metavar="FACT_ID", nargs="*", help="the candidates to accept")
    accept.add_argument("--all", dest="take_all", action="store_true", help="every candidate")
    accept.add_argument("--seeds", **seeds)

    review = sub.add_parser("review", help="the curator's worklist, most urgent first")
    review.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    review.add_argument(
        "--today", type=_day, help="the day to review against (YYYY-MM-DD; default today)"
    )
    review.add_argument("--seeds", **seeds)


def run_curate_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Run one of `CURATE_COMMANDS`; returns the exit code."""
    seeds_dir: Path = getattr(args, "seeds", None) or settings.seeds_dir
    try:
        if args.command == "ingest":
            return _ingest(args, seeds_dir, settings, out)
        if args.command == "draft":
            return _draft(args, seeds_dir, out)
        if args.command == "accept":
            return _accept(args, seeds_dir, out)
        if args.command == "review":
            return _review(args, seeds_dir, settings, out)
    except CurateRefused as exc:
        print(f"briefbot {args.command}: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    raise ValueError(f"not a curator's command: {args.command!r}")


def _ingest(args: argparse.Namespace, seeds_dir: Path, settings: Settings, out: TextIO) -> int:
    from bot.curate.ingest import ingest

    result = ingest(
        args.source,
        seeds_dir,
        doc_id=args.doc_id,
        kind=SourceKind(args.kind),
        today=settings.today(),
    )
    out.write("\n".join(result.report()) + "\n")
    return EXIT_OK


def _draft(args: argparse.Namespace, seeds_dir: Path, out: TextIO) -> int:
    from bot.curate.draft import draft_document, draft_path

    target: Path = args.out or draft_path(seeds_dir, args.doc_id)
    if target.exists():
        raise CurateRefused(f"{target} exists: accept or delete its candidates first")
    draft = draft_document(seeds_dir, args.doc_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.to_yaml(), encoding="utf-8")
    out.write(
        f"wrote {target}: {len(draft.candidates)} candidate(s); "
        f"{len(draft.used)} sentence(s) already quoted by a fact\n"
    )
    for candidate in draft.candidates:
        topics = ", ".join(f"{t.topic} {t.score:.2f}" for t in candidate.topics) or "no topic"
        out.write(
            f"  {candidate.id}: {candidate.kind or 'fact'}, importance {candidate.importance}, "
            f"{topics}\n"
        )
    out.write(f"next: edit it, then briefbot accept {args.doc_id} FACT_ID... (or --all)\n")
    return EXIT_OK


def _accept(args: argparse.Namespace, seeds_dir: Path, out: TextIO) -> int:
    from bot.curate.accept import accept

    outcome = accept(seeds_dir, args.doc_id, args.fact_ids, take_all=args.take_all)
    if not outcome.ok:
        for line in outcome.problems:
            out.write(line + "\n")
        out.write(
            f"nothing moved: the fact base would not verify; {outcome.facts_path} and the draft "
            "are as they were\n"
        )
        return EXIT_REFUSED
    factbase = outcome.factbase
    assert factbase is not None
    out.write(f"accepted {len(outcome.moved)} fact(s) into {outcome.facts_path}: ")
    out.write(", ".join(outcome.moved) + "\n")
    out.write(
        f"check: ok: {len(factbase.documents)} documents, {len(factbase.facts)} facts, every "
        f"quote verified; version {factbase.version}; {outcome.left_in_draft} candidate(s) "
        "left in the draft\n"
    )
    out.write("next: briefbot reload (a running bot picks it up)\n")
    return EXIT_OK


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: give YYYY-MM-DD") from None


def _review(args: argparse.Namespace, seeds_dir: Path, settings: Settings, out: TextIO) -> int:
    from bot.curate.review import curator_review
    from bot.factbase import load_factbase
    from bot.render import MARKDOWN, TEXT, Renderer
    from bot.state import Knowledge

    report = load_factbase(seeds_dir)
    if report.factbase is None:
        raise CurateRefused(f"{seeds_dir}: the fact base has errors: run `briefbot check`")
    groups, note = _gap_groups(settings)
    reply = curator_review(
        Knowledge.build(report.factbase),
        today=args.today or settings.today(),
        stale_days=settings.stale_days,
        gaps=groups,
        gaps_note=note,
        drafts_dir=seeds_dir / "drafts",
    )
    if args.format == "json":
        out.write(json.dumps(reply.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        fmt = MARKDOWN if args.format == "markdown" else TEXT
        out.write(Renderer(settings.templates_dir).render(reply.template, fmt, **reply.context()))
    return EXIT_OK


def _gap_groups(settings: Settings) -> tuple[list[GapGroup] | None, str]:
    """The last 90 days' knowledge gaps, or None and why: a SQLite file that does not exist is
    no database (it is never created here); one that cannot be read is said to be so."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.commands import GAPS_DAYS
    from bot.curate.review import NO_DATABASE
    from bot.db import make_engine
    from bot.db.gaps import GapStore

    url = settings.database_url
    if url.startswith("sqlite"):
        _, _, name = url.partition(":///")
        if not name or name == ":memory:" or not Path(name).is_file():
            return None, NO_DATABASE
    engine = make_engine(url)
    store = GapStore(engine)
    try:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=GAPS_DAYS)
        return store.groups(since=since), ""
    except SQLAlchemyError as exc:
        return None, f"the database could not be read ({type(exc).__name__})"
    finally:
        store.close()
        engine.dispose()
