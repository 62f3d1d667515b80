"""Spot-indexed pricing: pure Decimal arithmetic, no Django.

unit ask  = spot ask × fine oz × (1 + tier %) + tier fixed        (4 dp)
unit bid  = spot bid × fine oz × (1 + buyback %) + buyback fixed  (4 dp; buyback % is usually negative)
line      = unit × quantity × (1 + surcharge %)                  (rounded once, half-up, to cents)

Intermediates are quantised to 4 dp; the only rounding to cents is the line total, so a 100-line quote is off
by at most half a cent per line and never accumulates float error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
Q4 = Decimal("0.0001")
HUNDRED = Decimal(100)
TROY_OZ_GRAMS = Decimal("31.1034768")
UNIT_TO_TROY_OZ = {"ozt": Decimal(1), "g": 1 / TROY_OZ_GRAMS, "kg": 1000 / TROY_OZ_GRAMS}
DEFAULT_TIER_BREAKS = (1, 50, 200, 500)


@dataclass(frozen=True)
class Tier:
    min_qty: int
    percent: Decimal
    fixed: Decimal


def q4(value: Decimal) -> Decimal:
    return value.quantize(Q4, rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fine_troy_oz(weight: Decimal, unit: str, fineness: Decimal) -> Decimal:
    """Return the fine metal content in troy ounces (6 dp): weight in ``unit`` × fineness (0-1)."""
    if unit not in UNIT_TO_TROY_OZ:
        raise ValueError(f"Unknown weight unit {unit!r}; use one of {', '.join(UNIT_TO_TROY_OZ)}.")
    if not 0 < fineness <= 1:
        raise ValueError(f"Fineness {fineness} must be in (0, 1], e.g. 0.9999.")
    if weight <= 0:
        raise ValueError("Weight must be positive.")
    return (weight * UNIT_TO_TROY_OZ[unit] * fineness).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def tier_for(tiers: list[Tier], quantity: int) -> Tier:
    """Return the tier with the highest ``min_qty`` not above ``quantity``."""
    eligible = [t for t in tiers if t.min_qty <= quantity]
    if not eligible:
        raise ValueError(f"No price tier covers a quantity of {quantity}.")
    return max(eligible, key=lambda t: t.min_qty)


def unit_ask(*, spot_ask: Decimal, fine_oz: Decimal, tier: Tier) -> Decimal:
    return q4(q4(spot_ask * fine_oz) * (1 + tier.percent / HUNDRED) + tier.fixed)


def unit_bid(*, spot_bid: Decimal, fine_oz: Decimal, percent: Decimal, fixed: Decimal) -> Decimal:
    return q4(q4(spot_bid * fine_oz) * (1 + percent / HUNDRED) + fixed)


def line_total(*, unit: Decimal, quantity: int, surcharge_percent: Decimal = Decimal(0)) -> Decimal:
    return cents(unit * quantity * (1 + surcharge_percent / HUNDRED))
