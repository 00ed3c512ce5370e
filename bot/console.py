"""The console adapter: the bot without Slack, like Hubot's shell or Errbot's text backend.

Each line (`/brief rok`, `@briefbot what about the ITPP?`, `help`) goes through the same
`CommandHandler` the Slack listeners use; the reply is rendered as terminal text.
"""

from __future__ import annotations

from typing import TextIO

from bot.access import RequestContext
from bot.commands import CommandHandler
from bot.render import TEXT, Renderer

PROMPT = "briefbot> "
QUIT_WORDS = frozenset({"quit", "exit", ":q"})


def run_console(handler: CommandHandler, renderer: Renderer, stdin: TextIO, stdout: TextIO) -> int:
    """Answer lines from `stdin` until end of input or `quit`; prompts only on a terminal."""
    interactive = stdin.isatty()
    context = RequestContext(surface="console", prefix="/brief")
    if interactive:
        stdout.write("Briefbot console. Type /brief help, a topic, or quit.\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        reply = handler.handle(text, context)
        stdout.write(renderer.render(reply.template, TEXT, **reply.context()))
        stdout.write("\n")
        stdout.flush()
    return 0
