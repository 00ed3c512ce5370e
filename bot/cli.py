"""The `briefbot` command line: briefs, topics, search, check, console and serving.

Exit codes: 0 success, 1 nothing found, 2 bad configuration or a fact base with errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bot.access import RequestContext
from bot.cache import SeedCache
from bot.cliargs import cli_date
from bot.commands import CommandHandler, Invocation, find_command, topic_rows
from bot.config import ConfigError, Settings, redact_database_secrets
from bot.curate.cli import CURATE_COMMANDS, add_curate_commands, run_curate_command
from bot.factbase.problems import Problem, iter_problem_lines
from bot.publish.cli import PUBLISH_COMMANDS, add_publish_commands, run_publish_command
from bot.render import MARKDOWN, TEXT, Renderer, reply_as_json
from bot.replies import (
    BriefReply,
    ErrorReply,
    NotAllowedReply,
    NotFoundReply,
    Reply,
    SearchReply,
)
from bot.state import Knowledge, KnowledgeHolder, load_knowledge

EXIT_OK, EXIT_NOT_FOUND, EXIT_CONFIG = 0, 1, 2
CLI_CONTEXT = RequestContext(surface="cli", prefix="briefbot brief")
"""Who asks on the command line: the operator, with `briefbot brief WORDS` as the prefix."""
_search_command = find_command("search")
assert _search_command is not None
SEARCH = _search_command


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per task.

    With `only` (a sub-command's name), just that sub-command is added: what `main` builds when
    the first argument names one, so running `brief` neither builds nor imports the others.
    """
    parser = argparse.ArgumentParser(
        prog="briefbot", description="Cited briefs from a curated fact base, in Slack and here."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for names, add in _SUBCOMMANDS:
        if only is None or only in names:
            add(sub)
    return parser


SubParsers = Any
"""argparse's sub-parsers action (its class is private)."""


def _add_brief(sub: SubParsers) -> None:
    brief = sub.add_parser("brief", help="a cited brief on a topic or question")
    brief.add_argument("query", nargs="*", help="a topic, alias or question (e.g. nato)")
    brief.add_argument("--full", action="store_true", help="every fact, not only the key ones")
    brief.add_argument(
        "--format", choices=["text", "markdown", "json", "slack", "docx"], default="text"
    )
    brief.add_argument(
        "-o", "--output", metavar="FILE", help="with --format docx: the Word file to write"
    )
    brief.add_argument(
        "--today", type=cli_date, help="the day to measure source age from (YYYY-MM-DD)"
    )


def _add_lookups(sub: SubParsers) -> None:
    topics = sub.add_parser("topics", help="list the topics")
    topics.add_argument("--format", choices=["text", "json"], default="text")

    search = sub.add_parser("search", help="facts across topics that mention the words")
    search.add_argument("words", nargs="+")
    search.add_argument("--format", choices=["text", "json"], default="text")


def _add_check(sub: SubParsers) -> None:
    check = sub.add_parser("check", help="verify the fact base and templates; exit 2 on errors")
    check.add_argument(
        "--editorial",
        action="store_true",
        help="also review as an editor: attribution, lapsed targets, near-duplicates, "
        "unused facts, stale topics, tense (warnings)",
    )
    check.add_argument(
        "--strict", action="store_true", help="with --editorial: exit 2 on any editorial warning"
    )
    check.add_argument(
        "--today", type=cli_date, help="the day to review against (YYYY-MM-DD; default today)"
    )


def _add_running(sub: SubParsers) -> None:
    sub.add_parser("console", help="talk to the bot in the terminal (reads stdin when piped)")

    serve = sub.add_parser("serve", help="serve Slack over HTTP (or Socket Mode)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=_port, help="port, 1 to 65535 (default: $PORT or 3000)")
    serve.add_argument("--socket-mode", action="store_true", help="connect by Socket Mode")


def _add_reminders(sub: SubParsers) -> None:
    from bot.reminders.cli import add_reminder_commands

    add_reminder_commands(sub)


def _add_operator(sub: SubParsers) -> None:
    reload = sub.add_parser("reload", help="make a running bot re-read the fact base")
    reload.add_argument(
        "--url", type=_bot_url, help="the bot's address (default: http://127.0.0.1:$PORT)"
    )

    gaps = sub.add_parser("gaps", help="what people asked that the fact base answered badly")
    gaps.add_argument("--since", type=cli_date, help="only since this day (YYYY-MM-DD)")
    gaps.add_argument("--format", choices=["text", "json"], default="text")


_SUBCOMMANDS: list[tuple[frozenset[str], Callable[[SubParsers], None]]] = [
    (frozenset({"brief"}), _add_brief),
    (frozenset({"topics", "search"}), _add_lookups),
    (frozenset({"check"}), _add_check),
    (frozenset({"console", "serve"}), _add_running),
    (frozenset({"reminders"}), _add_reminders),
    (CURATE_COMMANDS, add_curate_commands),
    (PUBLISH_COMMANDS, add_publish_commands),
    (frozenset({"reload", "gaps"}), _add_operator),
]
"""Each group of sub-commands and the function that adds them, in the order help lists them."""
SUBCOMMAND_NAMES = frozenset().union(*(names for names, _ in _SUBCOMMANDS))


def _named(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` names first (its first word), if it is one; else None (help, an
    option, a typo: the whole parser answers)."""
    return argv[0] if argv and argv[0] in SUBCOMMAND_NAMES else None


def _port(value: str) -> int:
    """An argparse type for a TCP port: 1 to 65535 (uvicorn would wrap anything else)."""
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value!r}")
    return int(value)


def _bot_url(value: str) -> str:
    """An argparse type for the running bot's address: an http(s) URL with a host."""
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise argparse.ArgumentTypeError(
            f"expected the bot's http(s) address, such as http://127.0.0.1:3000, got {value!r}"
        )
    return value


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    """Run the CLI; returns the exit code."""
    out = stdout or sys.stdout
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_named(arguments))
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        print(f"briefbot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _run(parser, args, settings, out, stdin)
    except OverflowError:
        print(
            "briefbot: a date on the command line is too far in the past or the future "
            "to compute with",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except Exception as exc:
        if not _database_unusable(exc):
            raise
        # The database is unreachable or the URL unusable: one line, never the driver's traceback.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(
            "briefbot: configuration error: BRIEFBOT_DATABASE_URL: cannot use "
            f"{settings.database_url_masked}: "
            f"{redact_database_secrets(reason, settings.database_url)}",
            file=sys.stderr,
        )
        return EXIT_CONFIG


_DATABASE_UNUSABLE = frozenset(
    {"OperationalError", "InterfaceError", "NoSuchModuleError", "ArgumentError"}
)


def _database_unusable(exc: BaseException) -> bool:
    """Whether `exc` is SQLAlchemy saying the database is unreachable or its URL unusable.

    Checked by class name and module, so that `briefbot brief` and the other commands that never
    touch the database do not import SQLAlchemy just to name its exceptions.
    """
    return any(
        cls.__module__ == "sqlalchemy.exc" and cls.__name__ in _DATABASE_UNUSABLE
        for cls in type(exc).__mro__
    )


def _run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO,
    stdin: TextIO | None,
) -> int:
    """Run the parsed command with valid settings; returns the exit code."""
    if args.command in CURATE_COMMANDS:
        return run_curate_command(args, settings, out)
    if args.command in PUBLISH_COMMANDS:
        return run_publish_command(args, settings, out)
    if args.command == "reload":
        token = settings.admin_token.reveal() if settings.admin_token else ""
        return _reload(args.url or f"http://127.0.0.1:{settings.port}", out, token)
    if args.command == "gaps":
        return _gaps(args, settings, out)
    if args.command == "check":
        return _check(settings, out, args)
    if args.command == "serve":
        from bot.server import serve  # imported here: the web stack is only needed to serve

        return serve(settings, host=args.host, port=args.port, socket_mode=args.socket_mode)
    cache = SeedCache(settings.cache_dir) if settings.cache_dir else None
    loaded = load_knowledge(
        settings.seeds_dir,
        timezone=settings.timezone,
        default_channel=settings.reminder_channel,
        cache=cache,
    )
    if loaded.knowledge is None:
        print(
            f"briefbot: the fact base in {settings.seeds_dir} has errors (run `briefbot check`):",
            file=sys.stderr,
        )
        for line in iter_problem_lines(loaded.errors):
            print(f"  {line}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _answer(parser, args, settings, loaded.knowledge, loaded.rule_problems, out, stdin)
    finally:
        if cache is not None:
            cache.keep_rankings()  # the topics this command ranked, for the next run


def _answer(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    settings: Settings,
    knowledge: Knowledge,
    rule_problems: list[Problem],
    out: TextIO,
    stdin: TextIO | None,
) -> int:
    """Run a command that answers from the fact base."""
    holder = KnowledgeHolder(knowledge)
    renderer = Renderer(settings.templates_dir, cache_dir=settings.cache_dir)
    if args.command == "reminders":
        from bot.reminders.cli import run_reminder_command

        return run_reminder_command(
            args, settings, holder.current, renderer, out, problems=rule_problems
        )
    handler = CommandHandler(holder, stale_days=settings.stale_days, today=settings.today)
    if args.command == "brief":
        return _brief(args, handler, renderer, out)
    if args.command == "topics":
        return _topics(args, handler, renderer, out)
    if args.command == "search":
        return _search(args, handler, renderer, out)
    if args.command == "console":
        from bot.console import run_console

        return run_console(handler, renderer, stdin or sys.stdin, out)
    parser.error(f"unknown command {args.command!r}")  # exits with status 2


def _brief(
    args: argparse.Namespace, handler: CommandHandler, renderer: Renderer, out: TextIO
) -> int:
    query = " ".join(args.query)
    if (args.format == "docx") != bool(args.output):
        problem = (
            "--format docx needs -o FILE" if args.output is None else "-o FILE is for --format docx"
        )
        print(f"briefbot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if not query.strip() and args.format == "json":
        rows = topic_rows(handler.knowledge.current)
        document = {"query": query, "error": "empty_query", "topics": [r.id for r in rows]}
        out.write(json.dumps(document) + "\n")
        return EXIT_NOT_FOUND
    # Every word after `briefbot brief` goes through the command table, as in Slack: `briefbot
    # brief topics`, `briefbot brief full nato` and `briefbot brief help` do what they say.
    reply = handler.handle(query, CLI_CONTEXT, full=args.full, today=args.today)
    if args.format == "json":
        out.write(json.dumps(reply_as_json(reply), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "slack":
        from bot.slack.messages import MessageBuilder

        payload = MessageBuilder(renderer).build(reply)
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    elif args.format == "docx":
        return _write_docx(reply, args.output, renderer, out)
    else:
        fmt = MARKDOWN if args.format == "markdown" else TEXT
        out.write(renderer.render(reply.template, fmt, **reply.context()))
    return exit_code(reply)


def _write_docx(reply: Reply, path: str, renderer: Renderer, out: TextIO) -> int:
    """Write a brief to `path` as .docx; anything else (not found, help) is printed as text and
    nothing is written."""
    if not isinstance(reply, BriefReply):
        out.write(renderer.render(reply.template, TEXT, **reply.context()))
        if exit_code(reply) != EXIT_OK:
            return exit_code(reply)
        print("briefbot: only a brief can be written as .docx; nothing written", file=sys.stderr)
        return EXIT_CONFIG
    from bot.export.docx import brief_to_docx  # python-docx is only needed here

    data = brief_to_docx(reply.brief)
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as exc:
        print(f"briefbot: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    brief = reply.brief
    out.write(
        f"wrote {path}: {brief.title}, {len(brief.facts)} facts, {len(brief.sources)} sources\n"
    )
    return EXIT_OK


def exit_code(reply: Reply) -> int:
    """0 for an answer; 1 when nothing was found (no topic, no search hit) or the command was
    refused."""
    if isinstance(reply, NotFoundReply | ErrorReply | NotAllowedReply):
        return EXIT_NOT_FOUND
    if isinstance(reply, SearchReply) and not reply.hits:
        return EXIT_NOT_FOUND
    return EXIT_OK


def _topics(
    args: argparse.Namespace, handler: CommandHandler, renderer: Renderer, out: TextIO
) -> int:
    reply = handler.handle("topics", CLI_CONTEXT)
    if args.format == "json":
        out.write(json.dumps(reply_as_json(reply), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(renderer.render(reply.template, TEXT, **reply.context()))
    return EXIT_OK


def _search(
    args: argparse.Namespace, handler: CommandHandler, renderer: Renderer, out: TextIO
) -> int:
    reply = handler.run(
        SEARCH, Invocation(" ".join(args.words), CLI_CONTEXT, handler.knowledge.current)
    )
    if args.format == "json":
        out.write(json.dumps(reply_as_json(reply), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(renderer.render(reply.template, TEXT, **reply.context()))
    return exit_code(reply)


def _check(settings: Settings, out: TextIO, args: argparse.Namespace) -> int:
    # Verifies for real, never from the cache: the loaders are imported here, not at the top.
    from bot.editorial import editorial_review
    from bot.factbase.loader import load_factbase
    from bot.reminders.cli import rules_path
    from bot.reminders.rules import load_reminder_rules

    report = load_factbase(settings.seeds_dir)
    problems = list(report.problems)
    rule_count = 0
    editorial: list[Problem] = []
    if report.factbase is not None:
        rules, rule_problems = load_reminder_rules(rules_path(settings), report.factbase)
        problems += rule_problems
        rule_count = len(rules)
        if args.editorial:
            today = args.today or settings.today()
            editorial = editorial_review(
                report.factbase, today=today, stale_days=settings.stale_days
            )
            problems += editorial
    lines = iter_problem_lines(problems)
    template_problems = Renderer(settings.templates_dir).check()
    for line in lines + template_problems:
        out.write(line + "\n")
    if report.factbase is None:
        out.write(f"{rules_path(settings)} not checked: it needs a fact base without errors\n")
    errors = sum(p.severity == "error" for p in problems) + len(template_problems)
    warnings = sum(p.severity == "warning" for p in problems)
    if errors:
        out.write(f"{errors} error(s), {warnings} warning(s)\n")
        return EXIT_CONFIG
    fb = report.require()
    reviewed = f" ({len(editorial)} editorial)" if args.editorial else ""
    out.write(
        f"ok: {len(fb.documents)} documents, {len(fb.topics)} topics, {len(fb.facts)} facts, "
        f"every quote verified; {rule_count} reminder rule(s); {warnings} warning(s){reviewed}; "
        f"version {fb.version}\n"
    )
    if args.strict and editorial:
        out.write(f"--strict: {len(editorial)} editorial warning(s)\n")
        return EXIT_CONFIG
    return EXIT_OK


def _reload(url: str, out: TextIO, token: str) -> int:
    """POST /admin/reload to a running bot with BRIEFBOT_ADMIN_TOKEN; 0 reloaded, 1 refused,
    2 unreachable or not allowed."""
    import urllib.error
    import urllib.request

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        request = urllib.request.Request(
            url.rstrip("/") + "/admin/reload", data=b"", method="POST", headers=headers
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code != 422:
            hint = " (set BRIEFBOT_ADMIN_TOKEN to the bot's)" if exc.code in (401, 403) else ""
            print(f"briefbot: reload failed: HTTP {exc.code} from {url}{hint}", file=sys.stderr)
            return EXIT_CONFIG
        body = json.loads(exc.read())
    except (OSError, ValueError) as exc:
        print(f"briefbot: no bot answering at {url}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if body.get("ok"):
        out.write(f"reloaded: now serving fact base {body['version']}\n")
        return EXIT_OK
    out.write(f"reload refused: still serving fact base {body['version']}\n")
    for line in body.get("problems", []):
        out.write(f"  {line}\n")
    return EXIT_NOT_FOUND


def _gaps(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.db import Database
    from bot.db.gaps import GapStore
    from bot.status_replies import GapsReply

    database = Database(settings.database_url)
    try:
        since = (
            dt.datetime.combine(args.since, dt.time(0, 0), tzinfo=settings.timezone)
            if args.since
            else None
        )
        groups = GapStore(database.engine).groups(since=since)
    finally:
        database.dispose()
    if args.format == "json":
        out.write(
            json.dumps(
                [
                    {
                        "example": g.example,
                        "count": g.count,
                        "last_seen": g.last_seen.isoformat(),
                        "wordings": list(g.wordings),
                        "outcomes": list(g.outcomes),
                    }
                    for g in groups
                ],
                indent=2,
            )
            + "\n"
        )
        return EXIT_OK
    days = (dt.date.today() - args.since).days if args.since else 0
    reply = GapsReply(tuple(groups), days)
    text = Renderer(settings.templates_dir).render(reply.template, TEXT, **reply.context())
    if not args.since:
        text = text.replace(" in the last 0 days", "")
    out.write(text)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
