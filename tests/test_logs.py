"""Log lines cannot be forged or garbled by what users type, nor coloured by uvicorn."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, ReadableFormatter
from bot.metrics import Metrics


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


def test_request_metrics_through_cached_children_are_exposed_like_direct_ones() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.observe_request("/brief", "brief", 0.002, resolved_by="alias")
    metrics.observe_request("/brief", "not_found", 0.001, resolved_by="")
    metrics.observe_request("/brief", "help", 0.001)
    text = metrics.exposition().decode()
    assert 'briefbot_requests_total{command="/brief",outcome="brief"} 3.0' in text
    assert 'briefbot_resolutions_total{method="alias"} 3.0' in text
    assert "briefbot_resolution_misses_total 1.0" in text
    assert 'briefbot_requests_total{command="/brief",outcome="help"} 1.0' in text
    assert 'briefbot_request_seconds_count{command="/brief"} 5.0' in text


def test_json_lines_keep_the_millisecond_utc_time_and_every_extra() -> None:
    record = logging.LogRecord("bot.slack", logging.INFO, "", 0, "request", None, None)
    record.created = 1_795_000_000.4996
    record.topic = "nato"
    data = json.loads(JsonFormatter().format(record))
    assert data["time"] == "2026-11-18T11:06:40.499+00:00"
    assert data["topic"] == "nato" and data["message"] == "request"
