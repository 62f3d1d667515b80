"""Numbers as people read them: ``{{ order.total|usd }}`` → ``$86,286.23``, ``{{ n|qty:"oz" }}`` → ``1,000 oz``.

Every page and e-mail formats money and quantities through these two filters (``{% load numbers %}``); the JSON API
keeps plain decimals. Formatting is fixed (comma thousands, point decimals, US dollars) whatever the locale, and
money rounds half-up like the prices themselves. A value that is not a number renders as an em dash.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()
MISSING = "—"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


@register.filter(is_safe=True)
def usd(value: Any, places: int | str = 2) -> str:
    """Return ``value`` dollars as ``$1,234.56`` (``-$1,234.56`` when negative), to ``places`` decimals (default 2;
    LLM costs use 4)."""
    number = _decimal(value)
    if number is None:
        return MISSING
    places = int(places)
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.{places}f}"


@register.filter(is_safe=True)
def qty(value: Any, unit: str = "") -> str:
    """Return a quantity with thousands separators and its decimals as given (``1,000``, ``12,345.6789``), then
    ``unit`` if one is named (``1,000 oz``)."""
    number = _decimal(value)
    if number is None:
        return MISSING
    whole = number == number.to_integral_value()
    text = f"{number:,.0f}" if whole else f"{number.normalize():,f}"
    return f"{text} {unit}" if unit else text
