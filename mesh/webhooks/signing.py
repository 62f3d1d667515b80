"""The webhook signature header, in Stripe's scheme. Pure module: imports nothing from Django.

``DreamNet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>``. A receiver recomputes
the HMAC over the exact bytes it received, compares in constant time, and refuses timestamps outside its
tolerance (five minutes by default) so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "DreamNet-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """A signature header is missing, malformed, stale or does not match; the message says which."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """Return the ``DreamNet-Signature`` header value for ``body`` signed now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify_header(
    secret: str, header: str, body: bytes, *, tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None
) -> int:
    """Return the header's timestamp if one of its ``v1`` signatures matches ``body``; SignatureError if not."""
    timestamp, candidates = None, []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"{HEADER} must hold t=<timestamp> and at least one v1=<signature>")
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise SignatureError(f"the signature timestamp {timestamp} is outside the {tolerance_s} s tolerance")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("no v1 signature matches the body under this secret")
    return timestamp
