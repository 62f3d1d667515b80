"""Cost arithmetic for media calls. Pure module: Decimal only, no Django, no floats.

A media price is US dollars per unit: one image, or one second of video or audio. A reservation is rounded up
to six decimal places, so the governor never reserves less than the worst case; an actual cost is rounded
half-up once, at the call total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT_FRACTION = Decimal("0.000001")


@dataclass(frozen=True)
class MediaPrice:
    model: str
    unit: str  # "image" or "second"
    usd_per_unit: Decimal


def media_worst_cost(*, units: Decimal | int, price: MediaPrice) -> Decimal:
    """Return the most a call producing at most ``units`` can cost (rounded up)."""
    return (Decimal(units) * price.usd_per_unit).quantize(CENT_FRACTION, rounding=ROUND_CEILING)


def media_cost(*, units: Decimal | int, price: MediaPrice) -> Decimal:
    """Return what a call that produced ``units`` (images, or seconds) costs (rounded half-up)."""
    return (Decimal(units) * price.usd_per_unit).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)
