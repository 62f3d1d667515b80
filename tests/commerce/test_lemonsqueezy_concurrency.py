"""The same Lemon Squeezy delivery, sent 20 times at the same moment, has one effect (PostgreSQL: the inserts
really race on the unique (provider, event id); on SQLite they are serialised and the test still holds)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from commerce.models import Order, ProviderEvent
from commerce.payments import checkout_start
from commerce.services import quote_execute, quote_lock
from mesh.models import Receipt
from tests.commerce.lemonsqueezy_fake import FakeLemonSqueezy, sign

pytestmark = pytest.mark.django_db(transaction=True)
DUPLICATES = 20


def test_twenty_concurrent_duplicate_deliveries_pay_once(shop, alice, settings):
    fake = FakeLemonSqueezy()
    settings.LEMONSQUEEZY_API_KEY, settings.LEMONSQUEEZY_STORE_ID = fake.api_key, fake.store_id
    settings.LEMONSQUEEZY_API_BASE, settings.LEMONSQUEEZY_WEBHOOK_SECRET = fake.url, "ls_secret"
    settings.LEMONSQUEEZY_ORDER_VARIANT_ID = "501"
    shop.country = "NL"
    shop.save(update_fields=["country"])
    try:
        quote = quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="lemonsqueezy")
        order = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
        attempt = checkout_start(order=order)
        body = fake.order_body(fake.order_for(attempt.session_id, country="NL"))
        results, barrier = [], threading.Barrier(DUPLICATES)

        def deliver():
            try:
                barrier.wait()
                response = Client().post("/payments/lemonsqueezy/webhook", body, content_type="application/json",
                                         headers={"X-Signature": sign(body, "ls_secret")})  # fmt: skip
                results.append((response.status_code, response.json()["result"]))
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(DUPLICATES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        fake.close()
    assert [status for status, _ in results] == [200] * DUPLICATES
    outcomes = sorted(r.split(":")[0] for _, r in results)
    assert outcomes.count("duplicate") == DUPLICATES - 1
    assert f"{order.number} paid" in outcomes
    assert ProviderEvent.objects.count() == 1
    assert Order.objects.get().status == "paid"
    assert Receipt.objects.filter(subject=order.number).count() == 1
