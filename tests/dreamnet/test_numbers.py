"""Money and quantities as people read them (the ``numbers`` template filters)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from dreamnet.templatetags.numbers import qty, usd


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Decimal("86286.23"), 2, "$86,286.23"),
        (Decimal("86286.225"), 2, "$86,286.23"),  # half-up, like the prices
        (Decimal("-1234.5"), 2, "-$1,234.50"),
        (Decimal("0"), 2, "$0.00"),
        (Decimal("0.00123"), 4, "$0.0012"),
        (1000000, 2, "$1,000,000.00"),
        ("2650.1", 2, "$2,650.10"),
        (None, 2, "—"),
        ("n/a", 2, "—"),
        (Decimal("NaN"), 2, "—"),
    ],
)
def test_usd(value, places, shown):
    assert usd(value, places) == shown


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (1000, "oz", "1,000 oz"),
        (3, "", "3"),
        (Decimal("12345.678900"), "troy oz", "12,345.6789 troy oz"),
        (Decimal("1.000000"), "troy oz", "1 troy oz"),
        (None, "oz", "—"),
    ],
)
def test_qty(value, unit, shown):
    assert qty(value, unit) == shown


def test_the_library_loads_in_templates():
    rendered = Template('{% load numbers %}{{ a|usd }} · {{ b|qty:"oz" }} · {{ c|usd:4 }}').render(
        Context({"a": Decimal("86286.23"), "b": 1000, "c": Decimal("0.01234")})
    )
    assert rendered == "$86,286.23 · 1,000 oz · $0.0123"
