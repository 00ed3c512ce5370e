"""Prometheus metrics (`GET /metrics`), one registry per running bot.

Requests by command and outcome, their latency, resolution misses, reminder deliveries by
outcome, the fact base's size and load time, and Slack API errors by method and error.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_RequestChildren = tuple[Callable[[], None], Callable[[float], None], Callable[[], None] | None]
"""What one kind of request moves: its count, its latency, and its resolution's count."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The bot's metrics, registered on their own registry (so tests can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "briefbot_requests",
            "Requests answered, by command and outcome",
            ["command", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "briefbot_request_seconds",
            "Time to answer a request",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.resolutions = Counter(
            "briefbot_resolutions", "Queries resolved, by method", ["method"], registry=r
        )
        self.resolution_misses = Counter(
            "briefbot_resolution_misses", "Queries that matched no topic", registry=r
        )
        self.reminders = Counter(
            "briefbot_reminders",
            "Reminder deliveries by outcome (posted, late, failed, missed)",
            ["outcome"],
            registry=r,
        )
        self.facts = Gauge("briefbot_factbase_facts", "Facts in the fact base served", registry=r)
        self.topics = Gauge(
            "briefbot_factbase_topics", "Topics in the fact base served", registry=r
        )
        self.load_seconds = Gauge(
            "briefbot_factbase_load_seconds",
            "Time the last fact-base load and verification took",
            registry=r,
        )
        self.reloads = Counter(
            "briefbot_factbase_reloads", "Fact-base reloads by outcome", ["outcome"], registry=r
        )
        self.slack_errors = Counter(
            "briefbot_slack_api_errors",
            "Slack Web API failures by method and error",
            ["method", "error"],
            registry=r,
        )

        self._per_request: dict[tuple[str, str, str | None], _RequestChildren] = {}

    def observe_request(
        self, command: str, outcome: str, seconds: float, *, resolved_by: str | None = None
    ) -> None:
        """Count and time one answered request, and how its query was resolved (None: not a
        brief; "" : not found)."""
        key = (command, outcome, resolved_by)
        children = self._per_request.get(key)
        if children is None:
            children = self._per_request[key] = self._request_children(*key)
        count, observe, resolution = children
        count()
        observe(seconds)
        if resolution is not None:
            resolution()

    def _request_children(
        self, command: str, outcome: str, resolved_by: str | None
    ) -> _RequestChildren:
        """The counters one kind of request moves, looked up once: `labels` validates its
        arguments and takes a lock on every call, a few microseconds per request."""
        resolution = None
        if resolved_by:
            resolution = self.resolutions.labels(resolved_by).inc
        elif resolved_by == "":
            resolution = self.resolution_misses.inc
        return (
            self.requests.labels(command, outcome).inc,
            self.latency.labels(command).observe,
            resolution,
        )

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        return generate_latest(self.registry)
