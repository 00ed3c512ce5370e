"""Fixtures for the curator's commands: a copy of the bundled seeds, a local web server, the CLI."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import SEEDS, clear_settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Page:
    """What the local server answers on one path."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    send_length: bool = True


@dataclass
class PageServer:
    """An HTTP server on 127.0.0.1 serving `pages` by path; never the real network."""

    base: str
    pages: dict[str, Page] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    pages: dict[str, Page] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages.get(self.path)
            if page is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if page.send_length:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that hangs up on a large page is expected here, not a failure

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PageServer(f"http://127.0.0.1:{server.server_address[1]}", pages)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled seeds, which every `briefbot` command in the test uses."""
    clear_settings(monkeypatch)
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(copy))
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    return copy


def cli(*argv: str) -> tuple[int, str]:
    """Run `briefbot ARGV`; the exit code and what it printed on standard output."""
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, to show that nothing was written."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
