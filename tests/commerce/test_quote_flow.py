"""Quote → lock → execute: windows, tokens, KYC, approval, limits, stock, and company isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from commerce.models import Company, Order, Product, Quote
from commerce.services import CommerceError, quote_approve, quote_execute, quote_lock
from mesh.models import Event

pytestmark = pytest.mark.django_db


def _lock(company, user, *lines):
    return quote_lock(company=company, by=user, lines=list(lines) or [("xau-coin-maple-1oz", 2)])


def test_lock_freezes_each_line_at_the_feed(shop, alice):
    quote = _lock(shop, alice, ("xau-coin-maple-1oz", 2), ("xag-coin-eagle-1oz", 60))
    assert quote.status == Quote.Status.LOCKED
    assert (quote.expires_at - quote.locked_at) == timedelta(minutes=10)
    lines = {x.product.sku: x for x in quote.lines.select_related("product")}
    assert lines["xag-coin-eagle-1oz"].spot_source == "simulated"
    assert quote.total == sum(x.line_total for x in lines.values())


def test_execute_creates_a_wire_order_and_reserves_stock(shop, alice):
    stock = Product.objects.get(sku="xau-coin-maple-1oz").stock
    quote = _lock(shop, alice)
    order = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    assert order.status == Order.Status.PENDING_PAYMENT
    assert order.total == quote.total
    assert order.wire_reference.startswith("PSD")
    assert order.payment_deadline > timezone.now() + timedelta(hours=23)
    assert Product.objects.get(sku="xau-coin-maple-1oz").stock == stock - 2
    assert Event.objects.filter(topic="order.created", payload__number=order.number).exists()
    with pytest.raises(CommerceError, match="already executed"):
        quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))


def test_an_expired_lock_fails_with_a_requote(shop, alice):
    quote = _lock(shop, alice)
    Quote.objects.filter(pk=quote.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    quote.refresh_from_db()
    with pytest.raises(CommerceError, match=r"Price lock expired at .* UTC; re-quote to continue") as exc:
        quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    assert exc.value.status == 409
    (row,) = exc.value.extra["requote"]
    assert row["sku"] == "xau-coin-maple-1oz"
    assert row["locked_unit"] and row["current_unit"]
    assert not Order.objects.exists()


def test_a_foreign_lock_token_is_refused(shop, alice):
    quote = _lock(shop, alice)
    other = _lock(shop, alice)
    with pytest.raises(CommerceError, match="does not belong to this quote"):
        quote_execute(quote=quote, by=alice, lock_token=str(other.lock_token))


def test_an_unverified_company_quotes_but_cannot_execute(catalog, spot, charlie):
    company = Company.objects.create(slug="newco", name="NewCo")
    quote = _lock(company, charlie)
    with pytest.raises(CommerceError, match="not verified yet") as exc:
        quote_execute(quote=quote, by=charlie, lock_token=str(quote.lock_token))
    assert exc.value.status == 403


def test_large_orders_need_an_approver(shop, alice, bob):
    shop.approval_threshold = 1000
    shop.save()
    quote = _lock(shop, alice)
    with pytest.raises(CommerceError, match="need an approver's approval") as exc:
        quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    assert exc.value.code == "approval_required"
    with pytest.raises(CommerceError, match="Only an approver"):
        quote_approve(quote=quote, by=alice)
    quote_approve(quote=quote, by=bob)
    assert quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token)).status == "pending_payment"


def test_per_order_limit(shop, alice):
    shop.per_order_limit = 100
    shop.save()
    with pytest.raises(CommerceError, match="above Acme Metals's per-order limit"):
        _lock(shop, alice)


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([("nope", 1)], "unknown_sku"),
        ([("xag-coin-eagle-1oz", 5)], "below_minimum"),
        ([("xau-coin-maple-1oz", 0)], "bad_quantity"),
        ([("xau-coin-maple-1oz", -3)], "bad_quantity"),
        ([("xau-bar-1kg-heraeus", 26)], "insufficient_stock"),
        ([], "empty_quote"),
    ],
)
def test_bad_lines_are_refused_with_a_reason(shop, alice, lines, code):
    with pytest.raises(CommerceError) as exc:
        quote_lock(company=shop, by=alice, lines=lines)
    assert exc.value.code == code
    assert not Quote.objects.exists()


def test_stock_running_out_between_lock_and_execute_is_a_409(shop, alice):
    quote = _lock(shop, alice, ("xau-coin-maple-1oz", 5))
    Product.objects.filter(sku="xau-coin-maple-1oz").update(stock=3)
    with pytest.raises(CommerceError, match="Only 3 of xau-coin-maple-1oz left") as exc:
        quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    assert exc.value.status == 409
    assert Product.objects.get(sku="xau-coin-maple-1oz").stock == 3
