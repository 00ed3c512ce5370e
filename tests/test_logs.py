"""Log lines cannot be forged or garbled by what users type, nor coloured by uvicorn."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, ReadableFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("bot.slack", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(entry, key, value)
    return entry


def test_a_query_cannot_forge_a_readable_log_line_or_drive_the_terminal() -> None:
    hostile = "nato\n12:00:00 error   bot.server: fake alarm \x1b[2J\x1b[H"
    line = ReadableFormatter().format(record("request", query=hostile))
    assert "\n" not in line and "\x1b" not in line
    assert "query=nato\\n12:00:00" in line and "\\x1b[2J" in line


def test_a_message_with_control_characters_stays_on_one_readable_line() -> None:
    line = ReadableFormatter().format(record("got\r\nforged\x07"))
    assert line.count("\n") == 0 and "\r" not in line and "\x07" not in line


def test_uvicorns_colour_copy_of_the_message_stays_out_of_json_logs() -> None:
    entry = record("Started server", color_message="Started \x1b[1mserver\x1b[0m")
    data = json.loads(JsonFormatter().format(entry))
    assert "color_message" not in data
    assert data["message"] == "Started server"
