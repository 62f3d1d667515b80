"""People read money and quantities with thousands separators and the currency on pages and in e-mails; the API
keeps plain decimals."""

from __future__ import annotations

import pytest
from django.core import mail

from commerce.services import CommerceError, quote_approve, quote_execute, quote_lock

pytestmark = pytest.mark.django_db


def _big_order(shop, alice, bob):
    """1,000 silver coins and 2 gold coins: tens of thousands of dollars (approved by bob)."""
    quote = quote_lock(company=shop, by=alice, lines=[("xag-coin-eagle-1oz", 1000), ("xau-coin-maple-1oz", 2)])
    quote_approve(quote=quote, by=bob)
    return quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))


def test_the_order_page_shows_dollars_and_quantities_as_people_read_them(client, shop, alice, bob):
    order = _big_order(shop, alice, bob)
    assert order.total > 10000
    client.force_login(alice)
    page = client.get(order.get_absolute_url()).content.decode()
    total = f"${order.total:,.2f}"  # e.g. $86,286.23
    assert f"<strong>{total}</strong>" in page
    assert f"${order.total}<" not in page  # never the raw decimal
    silver = order.lines.get(product__sku="xag-coin-eagle-1oz")
    assert f"<td>1,000</td><td>${silver.unit_price:,.2f}</td><td>${silver.line_total:,.2f}</td>" in page


def test_the_confirmation_email_shows_dollars_and_quantities_as_people_read_them(
    shop, alice, bob, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://shop.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        order = _big_order(shop, alice, bob)
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == f"Order {order.number} placed: ${order.total:,.2f}"
    silver = order.lines.get(product__sku="xag-coin-eagle-1oz")
    assert (
        f"1,000 × 1 oz American Silver Eagle at ${silver.unit_price:,.2f} each: ${silver.line_total:,.2f}"
        in message.body
    )
    assert f"Total: ${order.total:,.2f} (USD" in message.body
    assert f"Amount:    ${order.total:,.2f}" in message.body
    assert f"Order page: https://shop.example.com/orders/{order.number}/" in message.body


def test_a_refused_order_sends_no_email(shop, alice, django_capture_on_commit_callbacks):
    quote = quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 1)])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(CommerceError, match="lock token"),
    ):
        quote_execute(quote=quote, by=alice, lock_token="00000000-0000-0000-0000-000000000000")
    assert callbacks == []
    assert mail.outbox == []


def test_the_api_keeps_plain_decimals(client, shop, alice, bob):
    order = _big_order(shop, alice, bob)
    client.force_login(alice)
    body = client.get(f"/api/commerce/orders/{order.number}").json()
    assert body["total"] == str(order.total)
