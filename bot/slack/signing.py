"""Verifying Slack's request signatures over the exact bytes received.

`slack_sdk.signature.SignatureVerifier` decodes the body as UTF-8 first and raises on anything
else; this check works on raw bytes so a garbage body is a clean 401 (or, when correctly signed,
a 400), never a server error. `looks_signed` checks the two headers' shape before any of the body
is read, so a request that cannot be Slack's costs nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

MAX_CLOCK_SKEW_SECONDS = 300
"""Slack's window: a timestamp further than this from now, either way, is refused."""

_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
"""Unix seconds in ASCII digits (`str.isdigit` would accept `²`, and `int()` 4,300+ digits not)."""
_SIGNATURE_RE = re.compile(r"v0=[0-9a-f]{64}")


def looks_signed(timestamp: str, signature: str) -> bool:
    """Whether the headers have the shape of Slack's: 1-12 ASCII digits, `v0=` + 64 hex digits."""
    return bool(_TIMESTAMP_RE.fullmatch(timestamp) and _SIGNATURE_RE.fullmatch(signature))


def is_valid_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None
) -> bool:
    """Whether `signature` is Slack's `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`, in time."""
    if not looks_signed(timestamp, signature):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
