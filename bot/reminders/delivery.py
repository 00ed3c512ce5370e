"""One pass of "post what is due and not yet posted", exactly once.

A pass computes the occurrences due in the look-back window from the rules (never from a job
store), asks the ledger which are settled, and for the rest:

- due before the ledger's first start (less a grace of `LATE_AFTER`): not owed, left alone;
- older than the catch-up window and never seen: recorded as missed, not posted;
- never seen and within the window: claimed (insert-or-nothing), paced per channel, posted with
  message metadata carrying the key, and recorded with Slack's ts (late if well past due); a
  digest with nothing to list is recorded as skipped instead of posted;
- owed (a failed post whose back-off has passed, or a claim whose lease ran out because its pass
  died): taken over atomically, then the channel is searched for a message carrying the key
  before anything is posted again, so a post whose answer was lost is recorded, not repeated.

Before each post the ledger's `hold` says whether the pass still holds the claim: from memory
within a local window after its last fence, by a new fence (one conditional update renewing all
its claims) after it. Posts are recorded in batches. Why that stays exactly once is argued in
`bot.reminders.ledger`; `FENCE_MARGIN` below is the margin it relies on.

A post is never retried blindly: an answer that leaves open whether Slack stored the message (HTTP
5xx, a dropped connection, a timeout) is followed by the same look in the channel before the next
attempt. Answers that say nothing was stored (429 after the client's waits, `ok: false`) are
retried as usual.

The same pass serves APScheduler's tick inside `briefbot serve`, `briefbot reminders run-due`
(cron, Kubernetes CronJob), tests and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.factbase import FactBase
from bot.reminders.channels import (
    check_reminder_channels,
    not_in_channel_advice,
    reminder_channels,
)
from bot.reminders.ledger import FAILED, LEASE, LOCAL_WINDOW, MISSED, SKIPPED, DeliveryLedger
from bot.reminders.messages import EVENT_TYPE, occurrence_payload
from bot.reminders.occurrences import DIGEST, Occurrence, ReminderSchedule
from bot.render import Renderer
from bot.slack.clients import TIMEOUT_SECONDS
from bot.slack.clients import make_client as slack_client

log = logging.getLogger("bot.reminders")

CATCH_UP = dt.timedelta(hours=48)
"""Occurrences missed by less than this (the bot was down, Slack failed) are still posted."""

LOOK_BACK = dt.timedelta(days=35)
"""How far back a pass looks for occurrences to post or to record as missed."""

LATE_AFTER = dt.timedelta(minutes=10)
"""A reminder posted more than this after its time is marked late. Also the grace before the
ledger's first start: an occurrence due that little before the bot first ran is still owed."""

DEFAULT_PACING_SECONDS = 1.0
"""Minimum gap between two posts to one channel (Slack allows about one per second)."""

CLIENT_RETRIES = 2
"""The client's own retries of one call: 429 (honouring Retry-After) for every call; 500/503 and
connection errors only for reads (`conversations.history`), never for a post."""

MAX_POST_RETRY_AFTER = 10
"""The longest `Retry-After` (seconds) the client waits out before sending a post again. A 429
asking for longer fails the attempt (Slack stored nothing) and the occurrence is owed again after
its back-off: a post must not outlast the margin of the ledger's local window."""

POST_WORST_CASE = dt.timedelta(
    seconds=(1 + CLIENT_RETRIES) * TIMEOUT_SECONDS + CLIENT_RETRIES * (MAX_POST_RETRY_AFTER + 1)
)
"""The longest one `chat.postMessage` can take with the reminders' client (default timeout):
every attempt timing out, and the longest waits between them (the client adds up to 1 s)."""

FENCE_MARGIN = LEASE - LOCAL_WINDOW - POST_WORST_CASE
"""How long before another pass could take a claim over that its owner's last post started by
its local window has reached Slack (38 s): what two processes' clocks may disagree by. See
`bot.reminders.ledger`."""

POST_ATTEMPTS = 1 + CLIENT_RETRIES
"""Posts of one occurrence within a pass after answers that leave open whether it was stored,
each after a look in the channel."""

HISTORY_PAGES = 5

CLAIM_BATCH = 50
"""Occurrences claimed per statement; the next batch is claimed while this one is posted. Every
fence renews all the pass's live claims, so a batch waiting on one channel's pacing stays
claimed however long it takes."""


def _is_post(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith("/chat.postMessage")


class _PostsNotRetried(RetryHandler):
    """Leaves posts alone: Slack may have stored a post whose answer was a failure, so only
    the delivery, after a look in the channel, may post again. Mixed into retry handlers."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return not _is_post(request) and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


class _ServerErrorsOfReads(_PostsNotRetried, ServerErrorRetryHandler):
    """Retries 500/503, except for posts: Slack may have stored a post it answered 5xx."""


class _ConnectionErrorsOfReads(_PostsNotRetried, ConnectionErrorRetryHandler):
    """Retries connection errors, except for posts: the post may have been sent and stored."""


class _RateLimitsWithinTheFence(RateLimitErrorRetryHandler):
    """Retries 429s, waiting `Retry-After`; a post only when that wait is at most
    `MAX_POST_RETRY_AFTER`, so that a post never outlasts `POST_WORST_CASE`."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return (
            response is None
            or not _is_post(request)
            or _retry_after(response) <= MAX_POST_RETRY_AFTER
        )


def _retry_after(response: HttpResponse) -> int:
    """The seconds a 429 asks to wait (slack-sdk waits 1 s without the header)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return int(values[0])
            except ValueError:
                return 0
    return 0


def retry_handlers() -> list[RetryHandler]:
    """The reminders' retry policy for `bot.slack.clients.make_client`.

    Posts are retried by the client only after a 429; other failures of a post are handled by
    the delivery, which looks in the channel first (see the module docstring). Reads also retry
    5xx answers and connection errors.
    """
    return [
        _ConnectionErrorsOfReads(max_retry_count=CLIENT_RETRIES),
        _RateLimitsWithinTheFence(max_retry_count=CLIENT_RETRIES),
        _ServerErrorsOfReads(max_retry_count=CLIENT_RETRIES),
    ]


def make_client(token: str, base_url: str, *, timeout: int = TIMEOUT_SECONDS) -> WebClient:
    """The reminders' client: `bot.slack.clients.make_client` with `retry_handlers()`."""
    return slack_client(WebClient, base_url, token=token, retry=retry_handlers(), timeout=timeout)


@dataclass
class PassResult:
    """What one pass did."""

    posted: int = 0
    late: int = 0
    recovered: int = 0
    retrying: int = 0
    failed: int = 0
    missed: int = 0
    skipped: int = 0
    """Digests with nothing to list (recorded, not posted)."""
    lost: int = 0
    """Claims whose lease ran out before their post (left to whoever takes them over)."""
    stopped: bool = False
    """The pass was asked to stop (`ReminderDelivery.stop`) before it had posted everything."""
    keys_posted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI and the log."""
        return (
            f"posted {self.posted} (late {self.late}), recovered {self.recovered}, "
            f"retrying {self.retrying}, failed {self.failed}, missed {self.missed}, "
            f"skipped {self.skipped}" + (", stopped before the end" if self.stopped else "")
        )


class NoChannelError(ValueError):
    """An occurrence has no channel: neither its rule nor BRIEFBOT_REMINDER_CHANNEL names one."""


class ServedRules(Protocol):
    """What a pass reads from the served snapshot (`bot.state.Knowledge`): the fact base and
    the reminder schedule built from it, taken together so a reload never mixes them."""

    @property
    def factbase(self) -> FactBase: ...

    @property
    def schedule(self) -> ReminderSchedule: ...


class ReminderDelivery:
    """Runs delivery passes against one ledger and one Slack client.

    Each pass takes one snapshot (`snapshot()`) and uses its fact base and rules throughout.
    """

    def __init__(
        self,
        *,
        ledger: DeliveryLedger,
        snapshot: Callable[[], ServedRules],
        renderer: Renderer,
        client: WebClient,
        pacing_seconds: float = DEFAULT_PACING_SECONDS,
        catch_up: dt.timedelta = CATCH_UP,
        look_back: dt.timedelta = LOOK_BACK,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.snapshot = snapshot
        self.renderer = renderer
        self.client = client
        self.pacing_seconds = pacing_seconds
        self.catch_up = catch_up
        self.look_back = look_back
        self._sleep = sleep
        self._monotonic = monotonic
        self._last_post: dict[str, float] = {}
        self._on_outcome = on_outcome or (lambda _outcome: None)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Shutting down: a running pass stops before its next occurrence, records what it
        posted and returns; later passes do nothing. Safe from a signal handler or another
        thread. Claims it had not posted stay `sending` and are taken over (after a look in
        the channel) once their leases run out."""
        self._stopping.set()

    def run_due(self, now: dt.datetime) -> PassResult:
        """Post everything due at `now` that is not yet settled; record the rest."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(dt.UTC)  # SQLite keeps no offset: store every time in UTC
        ledger = self.ledger.for_pass()
        with ledger.session(write_behind=True):
            try:
                return self._run_pass(ledger, now)
            finally:
                # Posts not yet recorded (`DeliveryLedger.record_posted_later`), also when the
                # pass ends by an exception or is stopped: a crash alone leaves them to be found
                # in their channels.
                ledger.flush()

    def _run_pass(self, ledger: DeliveryLedger, now: dt.datetime) -> PassResult:
        result = PassResult()
        served = self.snapshot()
        factbase, schedule = served.factbase, served.schedule
        owed_since = ledger.first_start(now) - LATE_AFTER
        due = schedule.occurrences(
            factbase, max(now - self.look_back, owed_since), now + dt.timedelta(microseconds=1)
        )
        by_key = {occ.key: occ for occ in due}
        known = ledger.known_keys(list(by_key))
        fresh: list[tuple[Occurrence, str]] = []
        for occ in due:
            if occ.key in known:
                continue
            channel = self._channel(occ, schedule)
            if now - occ.utc > self.catch_up:
                if ledger.record_missed(
                    key=occ.key, rule_id=occ.rule_id, channel=channel, due_at=occ.utc, now=now
                ):
                    result.missed += 1
                    self._on_outcome(MISSED)
                    log.warning(
                        "reminder missed: %s", occ.key, extra={"key": occ.key, "outcome": MISSED}
                    )
            else:
                fresh.append((occ, channel))
        self._post_fresh(ledger, fresh, served, now, result)
        for owed in [] if result.stopped else ledger.owed(now):
            if self._stopping.is_set():
                result.stopped = True
                break
            claimed = ledger.take_over(owed.key, now=now)
            if claimed is None:
                continue
            owed_occ = by_key.get(owed.key)
            if owed_occ is None:
                status = ledger.record_failure(
                    owed.key, error="its rule or date no longer produces this occurrence", now=now
                )
                result.failed += status == FAILED
                continue
            self._deliver(ledger, owed_occ, owed.channel, served, now, result, check_history=True)
        if result.posted or result.failed or result.missed or result.retrying or result.skipped:
            log.info("reminder pass", extra={"summary": result.summary()})
        if result.stopped:
            log.warning("reminder pass stopped: %s", result.summary())
        return result

    def _post_fresh(
        self,
        ledger: DeliveryLedger,
        fresh: list[tuple[Occurrence, str]],
        served: ServedRules,
        now: dt.datetime,
        result: PassResult,
    ) -> None:
        """Claim never-seen occurrences `CLAIM_BATCH` at a time and post the ones this pass
        won. The next batch is claimed (on the ledger's write-behind thread) while this one is
        posted; its posts wait for its claims."""
        batches = [fresh[i : i + CLAIM_BATCH] for i in range(0, len(fresh), CLAIM_BATCH)]

        def claim(batch: list[tuple[Occurrence, str]]) -> Future[set[str]]:
            items = [(occ.key, occ.rule_id, channel, occ.utc) for occ, channel in batch]
            return ledger.claim_ahead(items, now=now)

        claims = claim(batches[0]) if batches else None
        for n, batch in enumerate(batches):
            if self._stopping.is_set():
                result.stopped = True
                return
            assert claims is not None  # asked for before the loop, or in the round before
            won = claims.result()
            mine = [(occ, channel) for occ, channel in batch if occ.key in won]
            # Rendered together before the batch's posts, not one between two posts: the same
            # work costs less when the interpreter does one thing at a time. Digests are left
            # to `_deliver`, which first asks whether they have anything to list.
            prepared = [
                None
                if occ.kind == DIGEST
                else self._payload(occ, served, late=self._late(occ, now))
                for occ, _channel in mine
            ]
            # Only now, so that claiming the next batch and recording the last one's posts
            # happen during this batch's posts (which mostly wait on Slack) rather than compete
            # with the rendering for the interpreter.
            claims = claim(batches[n + 1]) if n + 1 < len(batches) else None
            ledger.write_behind()
            for (occ, channel), payload in zip(mine, prepared, strict=True):
                if self._stopping.is_set():
                    result.stopped = True
                    return
                self._deliver(
                    ledger,
                    occ,
                    channel,
                    served,
                    now,
                    result,
                    check_history=self._late(occ, now),
                    prepared=payload,
                )

    @staticmethod
    def _late(occ: Occurrence, now: dt.datetime) -> bool:
        """Posted at `now`, `occ` is late (and a fresh claim of it is checked against the
        channel first: another process, or the ledger before a restore, may have posted it)."""
        return now - occ.utc > LATE_AFTER

    def check_channels(self) -> list[str]:
        """At start-up: log (and return) every reminder channel the bot cannot post into."""
        return check_reminder_channels(self.client, reminder_channels(self.snapshot().schedule))

    def _channel(self, occ: Occurrence, schedule: ReminderSchedule) -> str:
        channel = occ.channel or schedule.default_channel
        if not channel:
            raise NoChannelError(
                f"reminder {occ.rule_id!r} has no channel: set BRIEFBOT_REMINDER_CHANNEL or the "
                "rule's channel"
            )
        return channel

    def _deliver(
        self,
        ledger: DeliveryLedger,
        occ: Occurrence,
        channel: str,
        served: ServedRules,
        now: dt.datetime,
        result: PassResult,
        *,
        check_history: bool,
        prepared: dict[str, Any] | Exception | None = None,
    ) -> None:
        """Post `occ` once (or settle it otherwise); `prepared` is its payload (or the error
        building it raised) when rendered ahead of time, None to render it here."""
        late = self._late(occ, now)
        factbase, schedule = served.factbase, served.schedule
        if check_history and self._settled_by_history(ledger, occ, channel, now, late, result):
            return
        if occ.kind == DIGEST and not schedule.digest_entries(occ, factbase):
            reason = "nothing to list: the digest was not posted"
            if ledger.record_skipped(occ.key, reason=reason, now=now):
                result.skipped += 1
                self._on_outcome(SKIPPED)
                log.info(
                    "reminder digest empty; not posted: %s",
                    occ.key,
                    extra={"key": occ.key, "channel": channel, "outcome": SKIPPED},
                )
            return
        payload = self._payload(occ, served, late=late) if prepared is None else prepared
        if isinstance(payload, Exception):
            self._failed(ledger, occ, f"could not build the message: {payload}", now, result)
            return
        error = ""
        for _attempt in range(POST_ATTEMPTS):
            self._pace(channel, ledger)
            if not ledger.hold(occ.key):
                # The lease ran out (a stalled pass): another pass may own the claim now.
                result.lost += 1
                log.warning(
                    "reminder claim lost before posting; not posted: %s",
                    occ.key,
                    extra={"key": occ.key, "outcome": "lost"},
                )
                return
            started = time.perf_counter()
            try:
                response = self.client.chat_postMessage(
                    channel=channel, unfurl_links=False, unfurl_media=False, **payload
                )
            except SlackApiError as exc:
                error = f"chat.postMessage: {exc.response.get('error')}"
                if exc.response.get("error") == "not_in_channel":
                    error += f" ({not_in_channel_advice(channel)})"
                if exc.response.status_code < 500:  # 429 after the client's waits, ok: false
                    self._failed(ledger, occ, error, now, result)
                    return
            except OSError as exc:  # a timeout or a dropped connection
                error = f"chat.postMessage: {type(exc).__name__}: {exc}"
            else:
                ts = str(response.get("ts") or "")
                self._posted(ledger, occ, channel, ts, now, late, result, started)
                return
            finally:
                self._last_post[channel] = self._monotonic()
            # Slack may have stored it and lost only the answer: look before posting again.
            log.warning(
                "reminder post unanswered; looking in the channel: %s",
                occ.key,
                extra={"key": occ.key, "slack_error": error, "outcome": "unanswered"},
            )
            if self._settled_by_history(ledger, occ, channel, now, late, result):
                return
        self._failed(ledger, occ, error, now, result)

    def _payload(
        self, occ: Occurrence, served: ServedRules, *, late: bool
    ) -> dict[str, Any] | Exception:
        """The chat.postMessage payload of `occ`, or the error building it raised.

        Checked against Slack's limits by `fit_to_limits` (which raises if even its short form
        breaks one): a second check here would cost a third as much as the rendering.
        """
        try:
            return occurrence_payload(
                self.renderer, occ, served.schedule, served.factbase, late=late
            )
        except Exception as exc:
            return exc

    def _settled_by_history(
        self,
        ledger: DeliveryLedger,
        occ: Occurrence,
        channel: str,
        now: dt.datetime,
        late: bool,
        result: PassResult,
    ) -> bool:
        """Look in the channel for `occ`'s message: True when that settled it (found and
        recorded, or the look failed and was recorded as a failure), False if it is not there."""
        try:
            found = self._find_posted(channel, occ)
        except (SlackApiError, OSError) as exc:
            error = f"could not check the channel for an earlier post: {exc}"
            self._failed(ledger, occ, error, now, result)
            return True
        if found is None:
            return False
        ledger.record_posted(occ.key, ts=found, now=now, late=late)
        result.recovered += 1
        self._on_outcome("recovered")
        log.info(
            "reminder found already posted: %s",
            occ.key,
            extra={"key": occ.key, "channel": channel, "ts": found, "outcome": "recovered"},
        )
        return True

    def _posted(
        self,
        ledger: DeliveryLedger,
        occ: Occurrence,
        channel: str,
        ts: str,
        now: dt.datetime,
        late: bool,
        result: PassResult,
        started: float,
    ) -> None:
        ledger.record_posted_later(occ.key, ts=ts, now=now, late=late)
        result.posted += 1
        result.late += late
        self._on_outcome("late" if late else "posted")
        result.keys_posted.append(occ.key)
        log.info(
            "reminder posted: %s",
            occ.key,
            extra={
                "key": occ.key,
                "channel": channel,
                "ts": ts,
                "late": late,
                "outcome": "posted",
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )

    def _failed(
        self,
        ledger: DeliveryLedger,
        occ: Occurrence,
        error: str,
        now: dt.datetime,
        result: PassResult,
    ) -> None:
        status = ledger.record_failure(occ.key, error=error, now=now)
        if status is None:
            log.warning(
                "reminder claim lost; failure not recorded: %s",
                occ.key,
                extra={"key": occ.key, "slack_error": error, "outcome": "lost"},
            )
            return
        self._on_outcome("failed" if status == FAILED else "retry")
        if status == FAILED:
            result.failed += 1
            log.error(
                "reminder failed: %s",
                occ.key,
                extra={"key": occ.key, "slack_error": error, "outcome": FAILED},
            )
        else:
            result.retrying += 1
            log.warning(
                "reminder post failed; will retry: %s",
                occ.key,
                extra={"key": occ.key, "slack_error": error, "outcome": "retry"},
            )

    def _pace(self, channel: str, ledger: DeliveryLedger) -> None:
        """Wait until this channel may take another post, recording earlier posts first (in
        the time the pass would wait anyway)."""
        last = self._last_post.get(channel)
        if last is None or self.pacing_seconds <= 0:
            return
        if self._monotonic() - last >= self.pacing_seconds:
            return
        ledger.flush()
        wait = self.pacing_seconds - (self._monotonic() - last)
        if wait > 0:
            self._sleep(wait)

    def _find_posted(self, channel: str, occ: Occurrence) -> str | None:
        """The ts of a message in `channel` whose metadata carries `occ.key`, if any.

        Looks through the channel's most recent messages (up to `HISTORY_PAGES` pages of 200),
        newest first: a lost post is at most one lease or back-off old, and the ts
        Slack assigns is wall-clock time, which a pass run with `--now` need not share.
        """
        cursor: str | None = None
        for _page in range(HISTORY_PAGES):
            kwargs: dict[str, Any] = {
                "channel": channel,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                kwargs["cursor"] = cursor
            response = self.client.conversations_history(**kwargs)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                if (
                    metadata.get("event_type") == EVENT_TYPE
                    and (metadata.get("event_payload") or {}).get("key") == occ.key
                ):
                    return str(message.get("ts"))
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
        return None
