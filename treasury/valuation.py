"""Valuation arithmetic (no Django): exact Decimal, one rounding to cents per line, totals as sums of lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

CENT = Decimal("0.01")
EXACT = Context(prec=300)  # holds any product of an 80-character quantity and a 30-digit price exactly
MAX_PRICE = Decimal(10) ** 15  # USD per unit: above this a price is an error, not a price
MAX_VALUE = Decimal(10) ** 15  # USD per line: what the snapshot's columns hold, and far beyond any real holding


def line_value(quantity: Decimal, price: Decimal) -> Decimal:
    """Return quantity × price rounded half-up to cents, once.

    The product is computed exactly (Decimal's default 28 digits would round a 36-decimal token amount times a
    12-decimal price before the cent rounding)."""
    with localcontext(EXACT):
        return (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Judged:
    status: str  # priced | stale | unpriced | unreadable
    value: Decimal | None
    note: str


def judge(
    *, quantity: Decimal | None, price: Decimal | None, price_at: datetime | None, now: datetime, max_age_s: float,
    problem: str = "",
) -> Judged:  # fmt: skip
    """Classify one line: unreadable without a quantity, unpriced without a usable price, stale when the price is
    older than ``max_age_s`` (shown, never counted), else priced with its value."""
    if quantity is None:
        return Judged("unreadable", None, problem or "the balance could not be read")
    if price is None or not price.is_finite() or price <= 0:
        return Judged("unpriced", None, problem or "no usable USD price from any price source")
    if price >= MAX_PRICE:
        return Judged("unpriced", None, f"price {price:.4g} USD per unit is not plausible; not counted")
    age = (now - price_at).total_seconds() if price_at else 0.0
    if age > max_age_s:
        return Judged("stale", None, f"price is {age:.0f} s old (limit {max_age_s:.0f} s); not counted in the total")
    if quantity * price >= MAX_VALUE:  # compared before rounding: a cent-rounded 10^30 would not fit 28 digits
        return Judged(
            "unpriced", None, f"value {quantity * price:.4g} USD is not plausible (quantity or price is wrong)"
        )
    return Judged("priced", line_value(quantity, price), problem)


def totals(lines: Iterable[tuple[str, Decimal | None]]) -> tuple[Decimal, Decimal, Decimal]:
    """Return (metal, crypto, total) from (kind, value) lines; lines without a value count nothing."""
    metal = crypto = Decimal("0.00")
    for kind, value in lines:
        if value is None:
            continue
        if kind == "metal":
            metal += value
        else:
            crypto += value
    return metal, crypto, metal + crypto
