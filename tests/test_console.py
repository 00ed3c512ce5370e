"""The console: lines through the same command handler as Slack, replies as terminal text."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.access import RequestContext
from bot.cli import main
from bot.commands import CommandHandler
from bot.console import run_console
from bot.factbase import FactBase
from bot.render import Renderer
from bot.replies import BriefReply, NotFoundReply
from bot.state import Knowledge, KnowledgeHolder
from bot.status_replies import HelpReply
from tests.conftest import TEMPLATES, environment_without_settings

TODAY = dt.date(2026, 11, 23)
LINES = ["/brief rok", "/brief help", "@briefbot what about the ITPP?", "nonsense qqq"]


pytestmark = pytest.mark.usefixtures("default_settings")


@pytest.fixture
def handler(factbase: FactBase) -> CommandHandler:
    return CommandHandler(KnowledgeHolder(Knowledge.build(factbase)), today=lambda: TODAY)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def console(handler: CommandHandler, renderer: Renderer, text: str) -> str:
    out = io.StringIO()
    assert run_console(handler, renderer, io.StringIO(text), out) == 0
    return out.getvalue()


def test_each_kind_of_line_gets_its_kind_of_reply(handler: CommandHandler) -> None:
    context = RequestContext(surface="console", prefix="/brief")
    rok, help_, itpp, nonsense = (handler.handle(line, context) for line in LINES)
    assert isinstance(rok, BriefReply) and rok.brief.topic_id == "rok"
    assert isinstance(help_, HelpReply)
    assert isinstance(itpp, BriefReply) and itpp.brief.topic_id == "nato"
    assert isinstance(nonsense, NotFoundReply) and len(nonsense.suggestions) == 3


def test_console_replies_start_as_a_reader_expects(
    handler: CommandHandler, renderer: Renderer
) -> None:
    out = console(handler, renderer, "\n".join(LINES) + "\n")
    assert out.startswith("NEW ZEALAND AND THE REPUBLIC OF KOREA\n")
    assert "\nNEW ZEALAND AND NATO\n" in out
    assert '\nNo topic matches "nonsense qqq".\n' in out
    assert '"/brief topics"' in out


def test_no_prompt_when_not_a_terminal_blank_lines_skipped_and_quit_stops(
    handler: CommandHandler, renderer: Renderer
) -> None:
    out = console(handler, renderer, "\n   \n/brief help\nquit\n/brief rok\n")
    assert out.startswith("Briefbot answers with short briefs")
    assert out.count("Usage:") == 1 and "REPUBLIC OF KOREA" not in out
    assert "briefbot>" not in out


def test_input_without_a_final_newline_is_answered(
    handler: CommandHandler, renderer: Renderer
) -> None:
    out = console(handler, renderer, "/brief rok")
    assert out.startswith("NEW ZEALAND AND THE REPUBLIC OF KOREA\n") and out.endswith("\n")


def test_full_brief_from_the_console(
    handler: CommandHandler, renderer: Renderer, factbase: FactBase
) -> None:
    out = console(handler, renderer, "/brief full rok\n")
    numbered = re.findall(r"^(\d+)\. ", out, flags=re.MULTILINE)
    assert [int(n) for n in numbered] == list(range(1, len(factbase.facts_for("rok")) + 1))
    assert "more facts" not in out


def test_real_console_process_reads_piped_stdin(handler: CommandHandler) -> None:
    script = Path(sys.executable).with_name("briefbot")
    command = [str(script)] if script.exists() else ["briefbot"]
    env = environment_without_settings()
    stdin = "\n".join(LINES) + "\n"
    before = dt.date.today()
    done = subprocess.run(
        [*command, "console"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("NEW ZEALAND AND THE REPUBLIC OF KOREA\n")
    # Both use today's date: the same lines in-process give the same text (unless midnight
    # passed in between, when the age of the sources differs by a day).
    out = io.StringIO()
    assert main(["console"], stdout=out, stdin=io.StringIO(stdin)) == 0
    if dt.date.today() == before:
        assert done.stdout == out.getvalue()
