"""The `briefbot` command line: formats, exit codes and the JSON contract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import EXIT_CONFIG, EXIT_NOT_FOUND, EXIT_OK, SUBCOMMAND_NAMES, build_parser, main
from bot.config import Settings
from bot.factbase import FactBase
from bot.resolve import SUGGESTION_COUNT
from bot.slack.limits import check_message
from bot.statements import spoken
from tests.conftest import TEMPLATES, cli, environment_without_settings
from tests.fakeslack import FakeSlack
from tests.seedkit import DOC, fact_yaml, make_seeds

TODAY = "2026-11-23"


pytestmark = pytest.mark.usefixtures("default_settings")


def cli_json(*argv: str) -> tuple[int, Any]:
    code, out = cli(*argv)
    return code, json.loads(out)


# --- brief -------------------------------------------------------------------------------------


def test_json_brief_has_exactly_the_documented_fields(factbase: FactBase) -> None:
    code, doc = cli_json("brief", "nato", "--format", "json", "--today", TODAY)
    assert code == EXIT_OK
    assert set(doc) == {
        "query",
        "topic",
        "resolved_by",
        "as_of",
        "as_of_inferred",
        "stale",
        "stale_facts",
        "facts",
        "sources",
    }
    assert doc["query"] == "nato"
    assert doc["topic"] == {"id": "nato", "title": factbase.topics["nato"].title}
    assert doc["resolved_by"] == "alias"
    assert isinstance(doc["as_of"], str) and isinstance(doc["stale"], bool)
    numbers = {s["n"]: s["id"] for s in doc["sources"]}
    for source in doc["sources"]:
        assert set(source) == {"n", "id", "title", "publisher", "date", "url", "kind"}
        document = factbase.documents[source["id"]]
        assert source["title"] == document.title and source["kind"] == document.kind.value
        assert source["url"] == (document.url or None)
        assert source["date"] == (document.published.iso() if document.published else None)
    assert len(doc["facts"]) == 8
    assert isinstance(doc["as_of_inferred"], bool)
    assert set(doc["stale_facts"]) <= {f["id"] for f in doc["facts"]}
    for fact in doc["facts"]:
        assert set(fact) == {
            "id",
            "statement",
            "claim",
            "date",
            "date_inferred",
            "citation",
            "source",
            "quote",
            "quotes",
            "kind",
            "said_by",
            "stated",
            "stated_inferred",
            "due",
            "lapsed",
            "commentary_only",
        }
        known = factbase.facts[fact["id"]]
        assert fact["statement"].startswith(spoken(factbase, known).rstrip("."))
        assert fact["claim"][1:] == known.statement[1:]
        assert (fact["source"], fact["quote"]) == (known.source, known.quote)
        assert [(q["source"], q["text"]) for q in fact["quotes"]] == [
            (c.source, c.quote) for c in known.citations
        ]
        assert fact["said_by"] == known.said_by
        assert fact["stated"] == (known.stated.iso() if known.stated else None)
        assert fact["stated_inferred"] is known.stated_inferred
        assert fact["due"] == (known.due.iso() if known.due else None)
        assert isinstance(fact["lapsed"], bool) and isinstance(fact["commentary_only"], bool)
        assert fact["date"] == (known.date.iso() if known.date else None)
        assert fact["kind"] == known.kind
        assert fact["citation"] and all(isinstance(n, int) for n in fact["citation"])
        assert {numbers[n] for n in fact["citation"]} == set(known.sources)


def test_json_brief_full_lists_every_fact(factbase: FactBase) -> None:
    code, doc = cli_json("brief", "--full", "--format", "json", "--today", TODAY, "rok")
    assert code == EXIT_OK
    assert len(doc["facts"]) == len(factbase.facts_for("rok"))


def test_json_brief_records_how_a_question_was_resolved() -> None:
    _, fuzzy = cli_json("brief", "natoo", "--format", "json", "--today", TODAY)
    assert (fuzzy["query"], fuzzy["topic"]["id"], fuzzy["resolved_by"]) == (
        "natoo",
        "nato",
        "fuzzy",
    )
    _, question = cli_json(
        "brief",
        "what's",
        "the",
        "latest",
        "on",
        "the",
        "ITPP?",
        "--format",
        "json",
        "--today",
        TODAY,
    )
    assert (question["query"], question["topic"]["id"]) == (
        "what's the latest on the ITPP?",
        "nato",
    )


def test_stale_follows_today(factbase: FactBase) -> None:
    _, old = cli_json("brief", "rok", "--format", "json", "--today", TODAY)
    _, fresh = cli_json("brief", "rok", "--format", "json", "--today", "2025-03-01")
    assert (old["stale"], fresh["stale"]) == (True, False)


def test_not_found_prints_suggestions_and_exits_1(factbase: FactBase) -> None:
    code, doc = cli_json("brief", "nonsense", "qqq", "--format", "json")
    assert code == EXIT_NOT_FOUND
    assert set(doc) == {"query", "error", "suggestions"}
    assert (doc["query"], doc["error"]) == ("nonsense qqq", "not_found")
    assert len(doc["suggestions"]) == SUGGESTION_COUNT == 3
    assert set(doc["suggestions"]) <= set(factbase.topics)
    assert cli_json("brief", "nonsense", "qqq", "--format", "json")[1] == doc


def test_not_found_as_text_points_at_the_topic_list() -> None:
    code, out = cli("brief", "nonsense", "qqq")
    assert code == EXIT_NOT_FOUND
    assert out.startswith('No topic matches "nonsense qqq".\nDid you mean: ')
    assert '"briefbot brief topics"' in out


def test_empty_query_shows_help() -> None:
    code, out = cli("brief")
    assert code == EXIT_OK
    assert "Usage:" in out and "Topics: " in out and "nato" in out


def test_slack_format_prints_a_valid_block_kit_payload() -> None:
    code, out = cli("brief", "rok", "--format", "slack", "--today", TODAY)
    assert code == EXIT_OK
    payload = json.loads(out)
    assert check_message(payload) == []
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "New Zealand and the Republic of Korea",
            "emoji": False,
        },
    }
    assert payload["text"].startswith("*New Zealand and the Republic of Korea*")


def test_slack_format_of_the_largest_topic_in_full_is_valid(factbase: FactBase) -> None:
    largest = max(sorted(factbase.topics), key=lambda t: len(factbase.facts_for(t)))
    code, out = cli("brief", largest, "--full", "--format", "slack", "--today", TODAY)
    assert code == EXIT_OK
    assert check_message(json.loads(out)) == []


def test_markdown_format() -> None:
    code, out = cli("brief", "nato", "--format", "markdown", "--today", TODAY)
    assert code == EXIT_OK
    assert out.startswith("# New Zealand and NATO\n") and "\n## Sources\n" in out


def test_brief_is_the_same_from_a_real_process() -> None:
    script = Path(sys.executable).with_name("briefbot")
    command = [str(script)] if script.exists() else [shutil.which("briefbot") or "briefbot"]
    env = environment_without_settings()
    before = Settings().today()  # the CLI's today is the team's (Pacific/Auckland), not UTC's
    done = subprocess.run(
        [*command, "brief", "nato"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    after = Settings().today()
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stderr == ""
    expected = {cli("brief", "nato", "--today", day.isoformat())[1] for day in (before, after)}
    assert done.stdout in expected
    assert done.stdout.startswith("NEW ZEALAND AND NATO\n")


# --- topics, search, check ---------------------------------------------------------------------


def test_topics_as_json(factbase: FactBase) -> None:
    code, rows = cli_json("topics", "--format", "json")
    assert code == EXIT_OK
    assert [r["id"] for r in rows] == sorted(factbase.topics)
    for row in rows:
        assert set(row) == {"id", "title", "aliases", "facts"}
        assert row["aliases"] == list(factbase.topics[row["id"]].aliases)
        assert row["facts"] == len(factbase.facts_for(row["id"]))


def test_topics_as_text_lists_every_topic(factbase: FactBase) -> None:
    code, out = cli("topics")
    assert code == EXIT_OK
    assert [line.split()[0] for line in out.splitlines() if line] == sorted(factbase.topics)


def test_search_finds_facts_across_topics_with_their_source(factbase: FactBase) -> None:
    code, out = cli("search", "ITPP")
    assert code == EXIT_OK
    assert out.startswith('Facts matching "ITPP":')
    assert "Individually Tailored Partnership Programme" in out
    code, hits = cli_json("search", "ITPP", "--format", "json")
    assert code == EXIT_OK and hits
    for hit in hits:
        fact = factbase.facts[hit["id"]]
        assert hit["quote"] == fact.quote
        assert hit["source_title"] == factbase.documents[fact.source].title


def test_search_without_hits_exits_1() -> None:
    code, out = cli("search", "zzqx", "qqqv")
    assert code == EXIT_NOT_FOUND
    assert out.startswith('No facts match "zzqx qqqv".')


def test_check_passes_on_the_bundled_seeds() -> None:
    code, out = cli("check")
    assert code == EXIT_OK
    assert out.splitlines()[-1].startswith("ok: ")
    assert "every quote verified" in out


def test_check_on_broken_seeds_prints_file_and_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = (
        fact_yaml("f1")
        + fact_yaml("f2", quote="Ministers met in Auckland")
        + fact_yaml("f3", date="2021-13")
    )
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(make_seeds(tmp_path, facts=facts)))
    code, out = cli("check")
    assert code == EXIT_CONFIG
    lines = out.splitlines()
    assert lines[0].startswith("seeds/facts/main.yaml:12: error: fact 'f2': quote ")
    assert lines[1].startswith("seeds/facts/main.yaml:16: error: fact 'f3': date: ")
    assert lines[-1].startswith("2 error(s), ")


def test_check_reports_an_impossible_unquoted_date_on_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # YAML reads an unquoted 2021-02-30 as a timestamp; it must be reported, not crash.
    facts = fact_yaml("f1").replace('date: "2021-03-03"', "date: 2021-02-30")
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(make_seeds(tmp_path, facts=facts)))
    code, out = cli("check")
    assert code == EXIT_CONFIG
    assert out.splitlines()[0] == (
        "seeds/facts/main.yaml:4: error: fact 'f1': date: "
        "'2021-02-30' is not a date: day 30 is not in 01-28"
    )


def test_check_rejects_a_source_url_that_is_not_a_web_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = DOC.format(id="doc-one", title="One", published="2021", url="!channel", kind="official")
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(make_seeds(tmp_path, documents={"doc-one": doc})))
    code, out = cli("check")
    assert code == EXIT_CONFIG
    assert out.splitlines()[0].startswith(
        "seeds/documents/doc-one.md:7: error: url '!channel' must be an http(s) address"
    )


def test_brief_on_broken_seeds_exits_2_and_says_to_run_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "BRIEFBOT_SEEDS_DIR", str(make_seeds(tmp_path, facts=fact_yaml("f1", source="nope")))
    )
    code, out = cli("brief", "alpha")
    assert (code, out) == (EXIT_CONFIG, "")
    err = capsys.readouterr().err
    assert "run `briefbot check`" in err and "unknown source 'nope'" in err


def test_a_bad_time_zone_exits_2_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_TIMEZONE", "Mars/Olympus_Mons")
    code, out = cli("brief", "nato")
    assert (code, out) == (EXIT_CONFIG, "")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "BRIEFBOT_TIMEZONE" in err[0] and "Mars/Olympus_Mons" in err[0]


def test_search_results_say_who_said_an_analysis_fact(factbase: FactBase) -> None:
    code, doc = cli_json("search", "wary", "--format", "json")
    assert code == EXIT_OK
    by_id = {hit["id"]: hit for hit in doc}
    analysis = [
        fid
        for fid in by_id
        if factbase.documents[factbase.facts[fid].source].kind.value == "analysis"
    ]
    assert analysis, "the bundled seeds have an analysis fact about wariness"
    for fid in analysis:
        assert by_id[fid]["statement"] == spoken(factbase, factbase.facts[fid])
        assert by_id[fid]["statement"].startswith(factbase.facts[fid].said_by + " (")


# --- errors at the edges: one line and exit 2, never a traceback --------------------------------

UNREACHABLE_DATABASE = "postgresql+psycopg://:s3cretpw@127.0.0.1:1/briefbot?sslpassword=s3cretssl"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The single line the CLI wrote to standard error (warnings about the rules aside)."""
    lines = [line for line in capsys.readouterr().err.splitlines() if ": warning: " not in line]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("argv", [["gaps"], ["reminders", "log"]])
def test_an_unreachable_database_is_one_line_naming_the_variable(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", UNREACHABLE_DATABASE)
    assert cli(*argv) == (EXIT_CONFIG, "")
    line = one_error_line(capsys)
    assert line.startswith("briefbot: configuration error: BRIEFBOT_DATABASE_URL: cannot use ")
    assert "127.0.0.1:1/briefbot" in line and "Connection refused" in line
    assert "s3cret" not in line


def test_serve_with_an_unreachable_database_exits_2_with_one_line(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("briefbot")
    env = environment_without_settings()
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'bot.db'}",
        "BRIEFBOT_WATCH_SEEDS": "false",
    }
    done = subprocess.run(
        [str(script), "serve", "--port", "3999"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_CONFIG
    assert done.stderr.splitlines() == [
        "briefbot: configuration error: BRIEFBOT_DATABASE_URL: cannot use "
        f"sqlite:///{tmp_path / 'missing' / 'bot.db'}: unable to open database file"
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["brief", "nato", "--today", "9999-12-31"],
        ["brief", "nato", "--today", "0001-01-01"],
        ["reminders", "upcoming", "--from", "9999-12-31"],
        ["reminders", "log", "--since", "0001-01-01"],
        ["reminders", "run-due", "--now", "0001-01-01T00:00:00"],
        ["reminders", "run-due", "--now", "9999-12-31T23:59:59"],
    ],
)
def test_dates_at_the_calendars_limits_are_one_line_and_exit_2(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
) -> None:
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("BRIEFBOT_REMINDER_CHANNEL", "C0REMIND")
    assert cli(*argv) == (EXIT_CONFIG, "")
    assert one_error_line(capsys) == (
        "briefbot: a date on the command line is too far in the past or the future to compute with"
    )


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("missing/calendar.ics", "No such file or directory"),
        (".", "Is a directory"),
        ("/dev/full", "No space left on device"),
    ],
)
def test_an_ics_file_that_cannot_be_written_is_one_line_and_exit_2(
    target: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = target if target.startswith("/") else str(tmp_path / target)
    assert cli("reminders", "export", "--ics", path) == (EXIT_CONFIG, "")
    assert one_error_line(capsys) == f"briefbot: cannot write {path}: {reason}"


def test_check_fails_on_a_templates_directory_without_the_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_TEMPLATES_DIR", str(tmp_path))
    code, out = cli("check")
    assert code == EXIT_CONFIG
    assert f"{tmp_path}:0: none of the bot's " in out
    shutil.copytree(TEMPLATES, tmp_path / "some")
    (tmp_path / "some" / "brief.md.j2").unlink()
    monkeypatch.setenv("BRIEFBOT_TEMPLATES_DIR", str(tmp_path / "some"))
    code, out = cli("check")
    assert code == EXIT_CONFIG
    assert f"{tmp_path / 'some' / 'brief.md.j2'}:0: missing template" in out.splitlines()


def test_serve_refuses_to_start_without_its_templates(tmp_path: Path) -> None:
    env = environment_without_settings()
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BRIEFBOT_TEMPLATES_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "3999"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_CONFIG
    assert f"{tmp_path}:0: none of the bot's " in done.stdout + done.stderr


@pytest.mark.parametrize(
    "argv", [["serve", "--port", "99999"], ["serve", "--port", "0"], ["serve", "--port", "-1"]]
)
def test_serve_refuses_a_port_outside_1_to_65535(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(*argv)
    assert exited.value.code == EXIT_CONFIG
    assert "expected a port from 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["garbage", "http://[::1"])
def test_reload_with_a_bad_url_is_one_line_and_exit_2(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = cli("reload", "--url", url)[0]
    except SystemExit as exited:  # argparse's refusal
        code = int(exited.code or 0)
    assert code == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert url in err.splitlines()[-1]


def test_the_command_line_imports_no_heavy_stack_until_a_command_needs_it() -> None:
    """`briefbot brief` starts fast: the database, Slack, web, PDF and Word stacks are imported
    by the commands that use them, not by `bot.cli` or by reading the settings."""
    heavy = ("sqlalchemy", "alembic", "slack_bolt", "starlette", "trafilatura", "pypdf", "docx")
    probe = (
        "import io, sys, bot.cli; bot.cli.main(['brief', 'nato'], stdout=io.StringIO()); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_each_sub_command_parses_alone_as_it_does_in_the_whole_parser() -> None:
    whole = build_parser()
    (choices,) = [a.choices for a in whole._actions if a.dest == "command"]
    assert set(choices) == SUBCOMMAND_NAMES
    samples = {
        "brief": ["brief", "nato", "--full", "--today", "2026-11-23"],
        "reminders": ["reminders", "upcoming", "--days", "10"],
        "ingest": ["ingest", "page.html"],
        "gaps": ["gaps", "--format", "json"],
    }
    for name in SUBCOMMAND_NAMES:
        argv = samples.get(name, [name])
        try:
            expected = vars(whole.parse_args(argv))
        except SystemExit:  # needs arguments this sample does not give: compare the refusal
            with pytest.raises(SystemExit):
                build_parser(name).parse_args(argv)
            continue
        assert vars(build_parser(name).parse_args(argv)) == expected, name


def test_a_mistyped_sub_command_gets_the_whole_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["brif", "nato"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'brif'" in err and "brief" in err and "reminders" in err


def test_python_dash_m_bot_is_the_briefbot_command_with_its_imports_frozen() -> None:
    """`python -m bot` (the `briefbot` script's entry point) answers as `bot.cli` does, exits
    with its code, and leaves the start-up's objects frozen with the collector running."""
    probe = (
        "import gc, io, sys, contextlib, runpy\n"
        "out = io.StringIO()\n"
        "sys.argv = ['briefbot', 'brief', 'nato']\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        runpy.run_module('bot', run_name='__main__')\n"
        "    except SystemExit as exit:\n"
        "        code = exit.code\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 1000, out.getvalue().splitlines()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "0 True True NEW ZEALAND AND NATO", done.stdout + done.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "bot", "brief", "nato", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode == 2, wrong
    assert "briefbot: error: unrecognized arguments: --bogus" in wrong.stderr


def test_start_up_keeps_a_disabled_collector_disabled() -> None:
    """`start_up` pauses the collector and freezes what exists; it never turns on a collector
    its caller had turned off."""
    import gc

    from bot.memory import start_up

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with start_up():
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
