"""`briefbot reminders ...`: upcoming occurrences and an iCalendar export, from the terminal.

`add_reminder_commands` adds the parser; `run_reminder_command` runs the chosen sub-command.
Each sub-command is an argparse parser (in `add_reminder_commands`) and a handler in `_COMMANDS`
taking the parsed arguments and a `ReminderContext`, so adding one (`run-due`, `log`) touches
only those two places.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cliargs import cli_date
from bot.config import Settings
from bot.factbase.model import FactBase
from bot.factbase.problems import Problem
from bot.reminders.model import REMINDERS_FILE
from bot.reminders.occurrences import Occurrence, ReminderSchedule, local_datetime
from bot.render import Renderer
from bot.state import Knowledge

if TYPE_CHECKING:
    from bot.reminders.delivery import ReminderDelivery

__all__ = [
    "ReminderContext",
    "add_reminder_commands",
    "occurrence_as_json",
    "rules_path",
    "run_reminder_command",
]

EXIT_OK, EXIT_CONFIG = 0, 2
DEFAULT_UPCOMING_DAYS = 14
DEFAULT_EXPORT_DAYS = 365


@dataclass(frozen=True)
class ReminderContext:
    """What every `reminders` sub-command gets: settings, fact base, rules, output and the clock."""

    settings: Settings
    knowledge: Knowledge
    renderer: Renderer
    schedule: ReminderSchedule
    stdout: TextIO
    stderr: TextIO
    now: dt.datetime

    @property
    def factbase(self) -> FactBase:
        """The fact base being served."""
        return self.knowledge.factbase

    @property
    def today(self) -> dt.date:
        """Today in the settings' time zone."""
        return self.now.astimezone(self.settings.timezone).date()


ReminderCommand = Callable[[argparse.Namespace, ReminderContext], int]


def rules_path(settings: Settings) -> Path:
    """Where the reminder rules live: `reminders.yaml` in the seeds directory."""
    return Path(settings.seeds_dir) / REMINDERS_FILE


def _days(limit: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit() or not 1 <= int(value) <= limit:
            raise argparse.ArgumentTypeError(f"expected a number of days from 1 to {limit}")
        return int(value)

    return parse


def add_reminder_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `reminders` and its sub-commands to the CLI's sub-parsers; returns its parser."""
    reminders = subparsers.add_parser("reminders", help="anniversary and deadline reminders")
    sub = reminders.add_subparsers(dest="reminders_command", metavar="SUBCOMMAND", required=True)

    upcoming = sub.add_parser("upcoming", help="occurrences from a day on, with their keys")
    upcoming.add_argument(
        "--from",
        dest="from_date",
        type=cli_date,
        metavar="DATE",
        help="first day, YYYY-MM-DD in BRIEFBOT_TIMEZONE (default: today)",
    )
    upcoming.add_argument(
        "--days",
        type=_days(3660),
        default=DEFAULT_UPCOMING_DAYS,
        help=f"how many days (default {DEFAULT_UPCOMING_DAYS})",
    )
    upcoming.add_argument("--format", choices=["text", "json"], default="text")

    export = sub.add_parser("export", help="write the coming year's occurrences as iCalendar")
    export.add_argument("--ics", required=True, type=Path, metavar="FILE", help="file to write")
    export.add_argument(
        "--from",
        dest="from_date",
        type=cli_date,
        metavar="DATE",
        help="first day, YYYY-MM-DD (default: today)",
    )
    export.add_argument(
        "--days",
        type=_days(3660),
        default=DEFAULT_EXPORT_DAYS,
        help=f"how many days (default {DEFAULT_EXPORT_DAYS})",
    )

    run_due = sub.add_parser("run-due", help="post what is due and not yet posted, once")
    run_due.add_argument(
        "--now",
        type=_instant,
        metavar="ISO-8601",
        help="the time to run as (default: now); without an offset it is read in BRIEFBOT_TIMEZONE",
    )

    log = sub.add_parser("log", help="what was posted, late, failed or missed")
    log.add_argument("--since", type=cli_date, metavar="DATE", help="only occurrences due since")
    log.add_argument("--limit", type=_days(10_000), default=100)
    log.add_argument("--format", choices=["text", "json"], default="text")
    return reminders


def _instant(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO-8601 time (e.g. 2026-09-04T09:00:00+12:00)"
        ) from None


def run_reminder_command(
    args: argparse.Namespace,
    settings: Settings,
    knowledge: Knowledge,
    renderer: Renderer,
    stdout: TextIO,
    *,
    stderr: TextIO | None = None,
    now: dt.datetime | None = None,
    problems: Sequence[Problem] = (),
) -> int:
    """Run `briefbot reminders SUBCOMMAND` on the snapshot's rules; returns the exit code.

    `problems` are the rules' warnings, printed first; `now` (aware) is the clock, for tests.
    """
    err = stderr or sys.stderr
    for problem in sorted(problems, key=lambda p: (p.severity != "error", p.line, p.message)):
        err.write(f"{problem}\n")
    context = ReminderContext(
        settings,
        knowledge,
        renderer,
        knowledge.schedule,
        stdout,
        err,
        now or dt.datetime.now(dt.UTC),
    )
    handler = _COMMANDS.get(args.reminders_command)
    if handler is None:
        err.write(f"briefbot: unknown reminders command {args.reminders_command!r}\n")
        return EXIT_CONFIG
    return handler(args, context)


def _upcoming(args: argparse.Namespace, ctx: ReminderContext) -> int:
    first = args.from_date or ctx.today
    found = ctx.schedule.between_days(ctx.factbase, first, args.days)
    if args.format == "json":
        document = {
            "from": first.isoformat(),
            "days": args.days,
            "timezone": str(ctx.settings.timezone),
            "occurrences": [occurrence_as_json(o) for o in found],
        }
        ctx.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    span = f"from {first.isoformat()} for {args.days} days ({ctx.settings.timezone})"
    if not found:
        ctx.stdout.write(f"No reminders {span}.\n")
        return EXIT_OK
    ctx.stdout.write(f"{len(found)} reminder(s) {span}:\n")
    for occ in found:
        channel = occ.channel or "(none: set BRIEFBOT_REMINDER_CHANNEL)"
        ctx.stdout.write(
            f"{occ.local:%Y-%m-%d %H:%M} {_offset(occ.local)} {occ.local.tzname() or ''}  "
            f"{occ.kind:<17} {occ.label}\n"
            f"    key {occ.key}  rule {occ.rule_id}  fact {occ.fact_id or '-'}  "
            f"channel {channel}\n"
        )
    return EXIT_OK


def _export(args: argparse.Namespace, ctx: ReminderContext) -> int:
    from bot.reminders.ical import export_ics  # icalendar: 30 ms of imports, only here

    first = args.from_date or ctx.today
    found = ctx.schedule.between_days(ctx.factbase, first, args.days)
    try:
        count = export_ics(found, args.ics, factbase=ctx.factbase, stamp=ctx.now)
    except OSError as exc:  # a missing folder, a directory, a full disk
        ctx.stderr.write(f"briefbot: cannot write {args.ics}: {exc.strerror or exc}\n")
        return EXIT_CONFIG
    ctx.stdout.write(
        f"wrote {count} event(s) from {first.isoformat()} for {args.days} days to {args.ics}\n"
    )
    return EXIT_OK


def _run_due(args: argparse.Namespace, ctx: ReminderContext) -> int:
    from bot.db import Database
    from bot.reminders.delivery import NoChannelError, ReminderDelivery, make_client
    from bot.reminders.ledger import DeliveryLedger

    settings = ctx.settings
    if settings.slack_bot_token is None:
        ctx.stderr.write(
            "briefbot: configuration error: SLACK_BOT_TOKEN: expected the bot "
            "token (xoxb-...) to post reminders; it is not set\n"
        )
        return EXIT_CONFIG
    now = args.now or ctx.now
    if now.tzinfo is None:
        now = now.replace(tzinfo=settings.timezone)
    database = Database(settings.database_url)
    try:
        delivery = ReminderDelivery(
            ledger=DeliveryLedger(database.engine),
            snapshot=lambda: ctx.knowledge,
            renderer=ctx.renderer,
            client=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
            pacing_seconds=settings.reminder_pacing_seconds,
            catch_up=dt.timedelta(hours=settings.reminder_catch_up_hours),
        )
        with _stopping_on_sigterm(delivery):
            result = delivery.run_due(now.astimezone(dt.UTC))
    except NoChannelError as exc:
        ctx.stderr.write(f"briefbot: configuration error: {exc}\n")
        return EXIT_CONFIG
    finally:
        database.dispose()
    ctx.stdout.write(f"{now.isoformat()}: {result.summary()}\n")
    return EXIT_OK


@contextlib.contextmanager
def _stopping_on_sigterm(delivery: ReminderDelivery) -> Iterator[None]:
    """While the block runs, SIGTERM (a CronJob deleted, `kill`) stops the pass gracefully:
    it records what it posted before exiting, instead of leaving those posts to be found in
    their channels by the next pass. Only in the main thread, where Python runs handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: delivery.stop())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _log(args: argparse.Namespace, ctx: ReminderContext) -> int:
    from bot.db import Database
    from bot.reminders.ledger import DeliveryLedger

    database = Database(ctx.settings.database_url)
    try:
        since = (
            local_datetime(args.since, dt.time(0, 0), ctx.settings.timezone) if args.since else None
        )
        rows = DeliveryLedger(database.engine).log(since=since, limit=args.limit)
    finally:
        database.dispose()
    zone = ctx.settings.timezone
    if args.format == "json":
        ctx.stdout.write(
            json.dumps(
                [
                    {
                        "key": r.key,
                        "rule": r.rule_id,
                        "channel": r.channel,
                        "due": r.due_at.astimezone(zone).isoformat(),
                        "status": r.status,
                        "late": r.late,
                        "attempts": r.attempts,
                        "ts": r.ts,
                        "posted": r.posted_at.astimezone(zone).isoformat() if r.posted_at else None,
                        "error": r.error,
                    }
                    for r in rows
                ],
                indent=2,
            )
            + "\n"
        )
        return EXIT_OK
    if not rows:
        ctx.stdout.write("No reminder deliveries recorded yet.\n")
        return EXIT_OK
    for r in rows:
        status = "posted (late)" if r.status == "posted" and r.late else r.status
        detail = f"ts {r.ts}" if r.ts else (r.error or "")
        ctx.stdout.write(
            f"{r.due_at.astimezone(zone):%Y-%m-%d %H:%M %Z}  {status:<14} "
            f"{r.key}  {r.channel}  attempts {r.attempts}  {detail}\n"
        )
    return EXIT_OK


_COMMANDS: dict[str, ReminderCommand] = {
    "upcoming": _upcoming,
    "export": _export,
    "run-due": _run_due,
    "log": _log,
}


def occurrence_as_json(occ: Occurrence) -> dict[str, Any]:
    """An occurrence in the `--format json` contract."""
    return {
        "key": occ.key,
        "local": occ.local.isoformat(),
        "utc": occ.utc.isoformat().replace("+00:00", "Z"),
        "utc_offset": _offset(occ.local),
        "timezone": str(occ.local.tzinfo),
        "tzname": occ.local.tzname(),
        "kind": occ.kind,
        "rule": occ.rule_id,
        "fact": occ.fact_id,
        "channel": occ.channel,
        "topic": occ.topic_id,
        "for_date": occ.for_date.isoformat(),
        "lead_days": occ.lead_days,
        "ordinal": occ.ordinal,
        "label": occ.label,
    }


def _offset(local: dt.datetime) -> str:
    """ "+12:00" or "+13:00"."""
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
