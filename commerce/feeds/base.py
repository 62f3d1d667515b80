from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

METALS = ("XAU", "XAG", "XPT", "XPD")


class FeedError(Exception):
    """A provider could not deliver a usable price; the message names the provider and the reason."""


@dataclass(frozen=True)
class RawTick:
    metal: str
    bid: Decimal
    ask: Decimal
    currency: str
    source: str
    fetched_at: datetime


def spread(mid: Decimal, bps: int) -> tuple[Decimal, Decimal]:
    """Return (bid, ask) ``bps`` basis points apart around ``mid``, 4 dp."""
    half = mid * Decimal(bps) / Decimal(20000)
    q = Decimal("0.0001")
    return (mid - half).quantize(q, ROUND_HALF_UP), (mid + half).quantize(q, ROUND_HALF_UP)
