"""Order lifecycle: transitions through services, receipts on payment, compliance review, wire expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import ComplianceFlag, LedgerEntry, Order, Product
from commerce.services import CommerceError, order_transition, orders_expire, quote_execute, quote_lock
from mesh.models import Event, Receipt

pytestmark = pytest.mark.django_db


def _order(company, user, sku="xau-coin-maple-1oz", qty=2):
    quote = quote_lock(company=company, by=user, lines=[(sku, qty)])
    return quote_execute(quote=quote, by=user, lock_token=str(quote.lock_token))


def test_an_order_moves_to_delivered_with_events_and_a_receipt(shop, alice, olivia):
    order = _order(shop, alice)
    order_transition(order=order, to="paid", by=olivia)
    order.refresh_from_db()
    receipt = Receipt.objects.get(log_index=order.receipt_index)
    assert receipt.subject == order.number
    assert receipt.inputs["total"] == str(order.total)
    order_transition(order=order, to="allocated")
    with pytest.raises(CommerceError, match="tracking number"):
        order_transition(order=order, to="shipped")
    order_transition(order=order, to="shipped", tracking="1Z999AA10123456784")
    order_transition(order=order, to="delivered")
    topics = list(Event.objects.filter(payload__number=order.number).values_list("topic", flat=True))
    assert topics == ["order.created", "order.paid", "order.allocated", "order.shipped", "order.delivered"]


def test_illegal_transitions_name_the_allowed_ones(shop, alice):
    order = _order(shop, alice)
    with pytest.raises(CommerceError, match="it can move to: cancelled, expired, paid") as exc:
        order_transition(order=order, to="shipped", tracking="x")
    assert exc.value.status == 409


def test_cancelling_releases_stock(shop, alice):
    before = Product.objects.get(sku="xau-coin-maple-1oz").stock
    order = _order(shop, alice)
    order_transition(order=order, to="cancelled")
    assert Product.objects.get(sku="xau-coin-maple-1oz").stock == before


def test_large_payments_in_24h_raise_one_compliance_flag(shop, alice, settings):
    settings.COMPLIANCE_THRESHOLD_USD = 5000
    first = _order(shop, alice)  # two 1 oz gold coins, about $5,400
    order_transition(order=first, to="paid")
    assert ComplianceFlag.objects.count() == 1
    flag = ComplianceFlag.objects.get()
    assert flag.window_total == first.total
    order_transition(order=_order(shop, alice), to="paid")
    assert ComplianceFlag.objects.count() == 1  # one open flag per company until an operator clears it


def test_an_unpaid_wire_order_expires_releases_stock_and_books_the_market_loss(shop, alice):
    before = Product.objects.get(sku="xau-coin-maple-1oz").stock
    order = _order(shop, alice)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    (expired,) = orders_expire()
    assert expired.status == Order.Status.EXPIRED
    assert Product.objects.get(sku="xau-coin-maple-1oz").stock == before
    entry = LedgerEntry.objects.get(order=order)
    # Locked at the ask with a premium, marked against the bid-side buyback price: a positive loss.
    assert entry.amount > Decimal("0")
    assert entry.kind == "market_loss"
    assert orders_expire() == []  # idempotent
    assert Event.objects.filter(topic="order.expired", payload__number=order.number).exists()
