"""Valuation arithmetic is exact Decimal: one half-up rounding per line, totals are sums of lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from treasury.valuation import MAX_VALUE, judge, line_value, totals

NOW = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)
quantities = st.decimals(min_value=0, max_value=10**12, places=18, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=Decimal("1e-12"), max_value=10**7, places=12, allow_nan=False, allow_infinity=False)


def _exact_cents(quantity: Decimal, price: Decimal) -> Decimal:
    """The reference: rational arithmetic, then half-up to the cent by integer division."""
    cents = Fraction(quantity) * Fraction(price) * 100
    whole, rest = divmod(cents.numerator, cents.denominator)
    return Decimal(whole + (1 if 2 * rest >= cents.denominator else 0)).scaleb(-2)


@given(quantities, prices)
def test_a_line_is_the_exact_product_rounded_once(quantity, price):
    value = line_value(quantity, price)
    assert value == _exact_cents(quantity, price)
    assert value.as_tuple().exponent == -2


@given(st.integers(min_value=1, max_value=2**256 - 1), st.integers(min_value=0, max_value=36), prices)
def test_any_token_amount_values_exactly(raw, decimals, price):
    quantity = Decimal(raw).scaleb(-decimals)
    judged = judge(quantity=quantity, price=price, price_at=NOW, now=NOW, max_age_s=900)
    if judged.status == "priced":
        assert judged.value == _exact_cents(quantity, price) < Decimal(10) ** 15


@given(st.lists(st.tuples(st.sampled_from(["metal", "crypto"]), st.one_of(st.none(), quantities)), max_size=40))
def test_totals_are_the_sum_of_valued_lines(lines):
    cents = [(kind, None if v is None else v.quantize(Decimal("0.01"))) for kind, v in lines]
    metal, crypto, total = totals(cents)
    assert total == metal + crypto
    assert metal == sum((v for k, v in cents if k == "metal" and v is not None), Decimal("0.00"))
    assert crypto == sum((v for k, v in cents if k == "crypto" and v is not None), Decimal("0.00"))


@given(quantities, prices, st.integers(min_value=0, max_value=10_000))
def test_a_price_older_than_the_limit_is_stale_and_never_valued(quantity, price, age):
    judged = judge(quantity=quantity, price=price, price_at=NOW - timedelta(seconds=age), now=NOW, max_age_s=900)
    if age > 900:
        assert judged.status == "stale" and judged.value is None and f"{age} s old" in judged.note
    elif quantity * price >= MAX_VALUE:  # fresh, but a value no snapshot column holds: refused, not rounded
        assert judged.status == "unpriced" and judged.value is None and "not plausible" in judged.note
    else:
        assert judged.status == "priced" and judged.value == line_value(quantity, price)


def test_zero_nan_and_missing_prices_are_unpriced():
    for price in (Decimal(0), Decimal("NaN"), Decimal("-1"), None):
        judged = judge(quantity=Decimal(1), price=price, price_at=NOW, now=NOW, max_age_s=900)
        assert judged.status == "unpriced" and judged.value is None


def test_an_unreadable_quantity_keeps_its_reason():
    judged = judge(quantity=None, price=Decimal(1), price_at=NOW, now=NOW, max_age_s=900, problem="decimals 77")
    assert judged.status == "unreadable" and judged.note == "decimals 77"


def test_implausible_prices_and_values_are_not_counted():
    huge_price = judge(quantity=Decimal(1), price=Decimal(10) ** 16, price_at=NOW, now=NOW, max_age_s=900)
    assert huge_price.status == "unpriced" and "not plausible" in huge_price.note
    huge_value = judge(quantity=Decimal(10) ** 30, price=Decimal(1), price_at=NOW, now=NOW, max_age_s=900)
    assert huge_value.status == "unpriced" and huge_value.value is None
