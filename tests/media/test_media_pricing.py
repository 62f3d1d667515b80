"""Per-unit media cost arithmetic (pure): reservations round up, actual costs round half-up, Decimal only."""

from __future__ import annotations

from decimal import Decimal

from agents.media.base import billed_seconds
from agents.media.pricing import MediaPrice, media_cost, media_worst_cost

PER_IMAGE = MediaPrice("gpt-image-1", "image", Decimal("0.25"))
PER_SECOND = MediaPrice("gpt-4o-mini-tts", "second", Decimal("0.0000125"))


def test_per_image_prices_multiply_by_the_images():
    assert media_worst_cost(units=3, price=PER_IMAGE) == Decimal("0.750000")
    assert media_cost(units=2, price=PER_IMAGE) == Decimal("0.500000")


def test_a_reservation_rounds_up_and_a_cost_rounds_half_up():
    assert media_worst_cost(units=Decimal("1.5"), price=PER_SECOND) == Decimal("0.000019")  # 0.00001875 up
    assert media_cost(units=Decimal("1.5"), price=PER_SECOND) == Decimal("0.000019")
    assert media_cost(units=Decimal("1.2"), price=PER_SECOND) == Decimal("0.000015")  # 0.000015 exactly
    assert media_worst_cost(units=Decimal("1.1"), price=PER_SECOND) == Decimal("0.000014")  # 0.00001375 up


def test_seconds_are_billed_whole():
    assert billed_seconds(Decimal("1.001")) == 2 and billed_seconds(Decimal("4.000")) == 4
