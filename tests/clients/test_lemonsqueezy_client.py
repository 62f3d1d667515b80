"""Lemon Squeezy as its clients meet it over real HTTP: a German company's key quotes and executes an order paid
through Lemon Squeezy and gets the hosted checkout; the (fake) Lemon Squeezy delivers its signed webhook to the
live server, repeatedly, and the order is paid once."""

from __future__ import annotations

import pytest

from commerce.models import Order, ProviderEvent
from mesh.models import Receipt
from tests.clients.test_commerce_client import QUOTES, _command, acme, key_as  # noqa: F401  (fixtures)
from tests.commerce.conftest import catalog, spot  # noqa: F401  (fixtures)
from tests.commerce.lemonsqueezy_fake import FakeLemonSqueezy

SECRET = "client-ls-secret"


@pytest.fixture
def fake(settings, live_server):
    fake = FakeLemonSqueezy()
    settings.LEMONSQUEEZY_API_KEY, settings.LEMONSQUEEZY_STORE_ID = fake.api_key, fake.store_id
    settings.LEMONSQUEEZY_API_BASE, settings.LEMONSQUEEZY_WEBHOOK_SECRET = fake.url, SECRET
    settings.LEMONSQUEEZY_ORDER_VARIANT_ID = "501"
    fake.secret, fake.webhook_url = SECRET, f"{live_server.url}/payments/lemonsqueezy/webhook"
    yield fake
    fake.close()


@pytest.mark.covers(f"POST {QUOTES}", "POST /api/commerce/quotes/{quote_id}/execute")
def test_an_eu_company_key_orders_through_lemon_squeezy_and_the_webhook_pays_once(http, acme, key_as, alice, fake):  # noqa: F811
    acme.country = "FR"
    acme.save(update_fields=["country"])
    buyer = http(key=key_as(alice))
    card = buyer.post(QUOTES, json={"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}], "payment_method": "card"})
    assert card.status_code == 409 and card.json()["code"] == "payment_method_not_offered"
    created = buyer.post(
        QUOTES, json={"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}], "payment_method": "lemonsqueezy"}
    )
    assert created.status_code == 201, created.text
    quote = created.json()
    executed = buyer.post(f"{QUOTES}/{quote['id']}/execute", json={"lock_token": quote["lock_token"]})
    assert executed.status_code == 201, executed.text
    assert executed.json()["checkout_url"].startswith(f"{fake.url}/checkout/custom/")
    (checkout_id,) = fake.checkouts
    body = fake.order_body(fake.order_for(checkout_id, country="FR"))
    answers = fake.deliver(body, times=3)  # Lemon Squeezy resends until it sees a 200
    assert [status for status, _ in answers] == [200, 200, 200]
    order = Order.objects.get()
    assert order.status == "paid"
    assert ProviderEvent.objects.filter(provider="lemonsqueezy").count() == 1
    assert Receipt.objects.filter(subject=order.number).count() == 1
