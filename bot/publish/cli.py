"""`briefbot publish` and `briefbot history`: verified snapshots for every replica.

`publish` verifies `seeds/` as `briefbot check` does and refuses (exit 2, every problem with file
and line, nothing stored) a base with errors; `publish --rollback VERSION` republishes an earlier
snapshot as the newest; `history` lists the publications, newest first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.config import Settings
from bot.factbase.model import FactBase
from bot.factbase.problems import iter_problem_lines

if TYPE_CHECKING:  # the store pulls in SQLAlchemy: imported only when a command runs
    from bot.publish.store import Publication, Snapshot, SnapshotStore

PUBLISH_COMMANDS = frozenset({"publish", "history"})
EXIT_OK, EXIT_REFUSED = 0, 2


def add_publish_commands(sub: Any) -> None:
    """Add `publish` and `history` to the `briefbot` sub-command parsers."""
    publish = sub.add_parser(
        "publish", help="verify the fact base and publish it to every replica (the database)"
    )
    publish.add_argument(
        "--rollback", metavar="VERSION", help="republish an earlier version as the newest"
    )
    publish.add_argument("--author", help="who publishes (default: your user name)")
    publish.add_argument(
        "--announce",
        action="store_true",
        help="post what changed to the reminder channel (also BRIEFBOT_ANNOUNCE_PUBLISH=true)",
    )
    publish.add_argument(
        "--seeds", type=Path, help="the seeds folder (default: $BRIEFBOT_SEEDS_DIR or seeds/)"
    )
    history = sub.add_parser("history", help="the published versions, newest first")
    history.add_argument("--format", choices=["text", "json"], default="text")


def run_publish_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Run one of `PUBLISH_COMMANDS`; returns the exit code."""
    from bot.db import Database
    from bot.publish.payload import decode
    from bot.publish.store import SnapshotStore, UnknownVersion

    verified = None
    if args.command == "publish" and not args.rollback:
        verified = _verify(args.seeds or settings.seeds_dir, settings, out)
        if verified is None:
            return EXIT_REFUSED
    database = Database(settings.database_url)
    try:
        store = SnapshotStore(database.engine)
        if args.command == "history":
            return _history(store, args.format, out)
        author = (args.author or _user()).strip() or "unknown"
        now = dt.datetime.now(dt.UTC)
        if verified is None:
            try:
                publication = store.rollback(args.rollback, author=author, now=now)
            except UnknownVersion:
                print(
                    f"briefbot publish: refused: version {args.rollback!r} was never published "
                    "(see `briefbot history`)",
                    file=sys.stderr,
                )
                return EXIT_REFUSED
        else:
            factbase, reminders, rules = verified
            publication = store.publish(factbase, reminders, rules=rules, author=author, now=now)
        _report(publication, out)
        if publication.stored and (args.announce or settings.announce_publish):
            snapshot = publication.snapshot
            published = verified[0] if verified else decode(store.payload(snapshot.id)).factbase
            _announce(snapshot, published, settings, out)
    finally:
        database.dispose()
    return EXIT_OK


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _verify(
    seeds_dir: Path, settings: Settings, out: TextIO
) -> tuple[FactBase, str | None, int] | None:
    """The verified fact base, the text of its reminder rules and their count; or None, with
    every problem printed, when it does not verify."""
    from bot.reminders.rules import REMINDERS_FILE
    from bot.state import load_knowledge

    loaded = load_knowledge(
        seeds_dir, timezone=settings.timezone, default_channel=settings.reminder_channel
    )
    if loaded.knowledge is None:
        for line in iter_problem_lines(loaded.problems):
            out.write(line + "\n")
        out.write(
            f"nothing published: {len(loaded.errors)} error(s) in {seeds_dir} "
            "(the replicas keep serving the version they have)\n"
        )
        return None
    rules_file = Path(seeds_dir) / REMINDERS_FILE
    reminders = rules_file.read_text(encoding="utf-8") if rules_file.is_file() else None
    knowledge = loaded.knowledge
    return knowledge.factbase, reminders, len(knowledge.schedule.rules)


def _report(publication: Publication, out: TextIO) -> None:
    snapshot = publication.snapshot
    if not publication.stored:
        out.write(
            f"version {snapshot.version} is already the newest published (by {snapshot.author}, "
            f"{_when(snapshot)}): nothing stored\n"
        )
        return
    out.write(
        f"published version {snapshot.version} by {snapshot.author}: {_counts(snapshot)}; "
        f"{snapshot.changes.summary()}\n"
        "replicas with BRIEFBOT_FACTBASE=database serve it within seconds\n"
    )


def _announce(snapshot: Snapshot, factbase: FactBase, settings: Settings, out: TextIO) -> None:
    """Post what changed to the reminder channel; a failure is reported, not fatal (the
    version is published either way)."""
    from slack_sdk.errors import SlackApiError

    from bot.publish.announce import announcement
    from bot.reminders.delivery import make_client

    if settings.slack_bot_token is None or settings.reminder_channel is None:
        print(
            "briefbot publish: not announced: set SLACK_BOT_TOKEN and BRIEFBOT_REMINDER_CHANNEL",
            file=sys.stderr,
        )
        return
    text = announcement(snapshot, factbase)
    client = make_client(settings.slack_bot_token.reveal(), settings.slack_api_url)
    try:
        client.chat_postMessage(channel=settings.reminder_channel, text=text, mrkdwn=True)
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown") if exc.response is not None else "unknown"
        print(f"briefbot publish: not announced: Slack said {error}", file=sys.stderr)
        return
    except OSError as exc:
        print(f"briefbot publish: not announced: {type(exc).__name__}", file=sys.stderr)
        return
    out.write(f"announced in {settings.reminder_channel}\n")


def _when(snapshot: Snapshot) -> str:
    return snapshot.published_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _counts(snapshot: Snapshot) -> str:
    return (
        f"{snapshot.documents} documents, {snapshot.topics} topics, {snapshot.facts} facts, "
        f"{snapshot.rules} reminder rule(s)"
    )


def _history(store: SnapshotStore, fmt: str, out: TextIO) -> int:
    snapshots = store.history()
    if fmt == "json":
        out.write(json.dumps([s.as_json() for s in snapshots], indent=2) + "\n")
        return EXIT_OK
    if not snapshots:
        out.write("nothing published yet: run `briefbot publish`\n")
        return EXIT_OK
    for index, snapshot in enumerate(snapshots):
        served = "  (served)" if index == 0 else ""
        out.write(
            f"{snapshot.version}  {_when(snapshot)}  by {snapshot.author}{served}\n"
            f"    {_counts(snapshot)}; {snapshot.changes.summary()}\n"
        )
    return EXIT_OK
