from __future__ import annotations

from django.conf import settings

from commerce.selectors import spot_latest
from dreamnet.health import ProbeFailed


def probe_spot_feed() -> str:
    latest = spot_latest()
    if not latest:
        raise ProbeFailed("no spot price yet; the feed refreshes from the task cluster")
    oldest = max(s.age_s for s in latest.values())
    sources = ", ".join(sorted({s.source for s in latest.values()}))
    if oldest > settings.SPOT_MAX_AGE_S:
        raise ProbeFailed(f"spot is {oldest:.0f} s old (limit {settings.SPOT_MAX_AGE_S} s); prices cannot be locked")
    return f"{len(latest)} metals from {sources}, {oldest:.0f} s old"
