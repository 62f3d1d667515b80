"""Pricing table with worked values: tiers, surcharge, rounding at half-cent boundaries."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from commerce.pricing import Tier, fine_troy_oz, line_total, tier_for, unit_ask, unit_bid

TIERS = [
    Tier(1, D("3.0"), D("0")),
    Tier(50, D("2.6"), D("0")),
    Tier(200, D("2.2"), D("0")),
    Tier(500, D("1.8"), D("1.50")),
]


@pytest.mark.parametrize(
    ("qty", "min_qty"), [(1, 1), (49, 1), (50, 50), (199, 50), (200, 200), (499, 200), (500, 500), (10_000, 500)]
)
def test_tier_boundaries(qty, min_qty):
    assert tier_for(TIERS, qty).min_qty == min_qty


def test_a_quantity_below_every_tier_is_refused():
    with pytest.raises(ValueError, match="No price tier covers a quantity of 0"):
        tier_for(TIERS, 0)


@pytest.mark.parametrize(
    ("weight", "unit", "fineness", "expected"),
    [
        (D("1"), "ozt", D("0.9999"), D("0.999900")),
        (D("1"), "kg", D("0.9999"), D("32.147531")),  # 1000 g / 31.1034768 g = 32.150747 ozt × 0.9999
        (D("100"), "g", D("0.9999"), D("3.214753")),
        (D("1.0909"), "ozt", D("0.9167"), D("1.000028")),  # an American Gold Eagle
    ],
)
def test_fine_content(weight, unit, fineness, expected):
    assert fine_troy_oz(weight, unit, fineness) == expected


def test_unit_ask_worked_example():
    # 2650.25 × 0.9999 = 2649.984975 → 2649.9850 (4 dp); × 1.030 = 2729.4846; + 0 → 2729.4846
    assert unit_ask(spot_ask=D("2650.25"), fine_oz=D("0.9999"), tier=TIERS[0]) == D("2729.4846")
    # The 500+ tier adds its fixed premium after the percentage: 2649.9850 × 1.018 + 1.50 = 2699.1847
    assert unit_ask(spot_ask=D("2650.25"), fine_oz=D("0.9999"), tier=TIERS[3]) == D("2699.1847")


def test_unit_bid_applies_the_buyback_discount():
    # 2648.10 × 1 = 2648.10; × (1 − 1.5 %) = 2608.3785; − 0.00
    assert unit_bid(spot_bid=D("2648.10"), fine_oz=D("1"), percent=D("-1.5"), fixed=D("0")) == D("2608.3785")


@pytest.mark.parametrize(
    ("unit", "qty", "surcharge", "expected"),
    [
        (D("10.0050"), 1, D("0"), D("10.01")),  # exactly half a cent rounds up
        (D("10.0049"), 1, D("0"), D("10.00")),
        (D("10.0025"), 2, D("0"), D("20.01")),  # 20.0050 → up, rounded once on the line, not per unit
        (D("2729.4846"), 3, D("0"), D("8188.45")),
        (D("2729.4846"), 1, D("4"), D("2838.66")),  # card surcharge: 2729.4846 × 1.04 = 2838.663984
        (D("31.1250"), 1000, D("0"), D("31125.00")),
    ],
)
def test_line_totals_round_half_up_once(unit, qty, surcharge, expected):
    assert line_total(unit=unit, quantity=qty, surcharge_percent=surcharge) == expected


def test_bad_product_figures_are_refused():
    with pytest.raises(ValueError, match="Unknown weight unit"):
        fine_troy_oz(D("1"), "lb", D("0.999"))
    with pytest.raises(ValueError, match="Fineness"):
        fine_troy_oz(D("1"), "ozt", D("1.2"))
