"""Cost arithmetic for LLM calls. Pure module: Decimal only, no Django, no floats.

Prices are US dollars per million tokens. An actual cost is rounded half-up once, at the call total, to six
decimal places; a reservation is rounded up, so the governor never reserves less than the exact worst case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from agents.llm.base import Usage

MILLION = Decimal(1_000_000)
CENT_FRACTION = Decimal("0.000001")


@dataclass(frozen=True)
class Price:
    model: str
    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal
    output_per_mtok: Decimal


def _exact(usage: Usage, price: Price) -> Decimal:
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    uncached = usage.input_tokens - cached
    return (
        Decimal(uncached) * price.input_per_mtok
        + Decimal(cached) * price.cached_input_per_mtok
        + Decimal(usage.output_tokens) * price.output_per_mtok
    ) / MILLION


def call_cost(usage: Usage, price: Price) -> Decimal:
    """Return what a call with ``usage`` costs at ``price`` (cached input tokens are part of input tokens)."""
    return _exact(usage, price).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


def worst_case_cost(*, prompt_tokens: int, max_tokens: int, price: Price) -> Decimal:
    """Return the most a call can cost: every prompt token uncached, and the full ``max_tokens`` of output."""
    usage = Usage(input_tokens=prompt_tokens, cached_input_tokens=0, output_tokens=max_tokens)
    return _exact(usage, price).quantize(CENT_FRACTION, rounding=ROUND_CEILING)
