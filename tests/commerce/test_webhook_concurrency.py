"""The same Stripe event delivered twice at the same moment has one effect."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from commerce.models import Order, StripeEvent
from commerce.payments import checkout_start
from commerce.services import quote_execute, quote_lock
from mesh.models import Receipt
from tests.commerce.stripe_fake import FakeStripe, event, sign

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_duplicate_deliveries_pay_once(shop, alice, settings):
    fake = FakeStripe()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_WEBHOOK_SECRET = (
        "sk_test",
        fake.url,
        "whsec_x",
    )
    try:
        quote = quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="card")
        order = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
        session = checkout_start(order=order).session_id
        body = event("evt_dup", "checkout.session.completed", {
            "id": session, "client_reference_id": order.number, "payment_status": "paid",
            "amount_total": int(order.total * 100), "payment_intent": "pi_dup"})  # fmt: skip
        results, barrier = [], threading.Barrier(2)

        def deliver():
            barrier.wait()
            response = Client().post("/stripe/webhook/", body, content_type="application/json",
                                     headers={"Stripe-Signature": sign(body, "whsec_x")})  # fmt: skip
            results.append((response.status_code, response.json()["result"]))
            connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        fake.close()
    assert sorted(status for status, _ in results) == [200, 200]
    assert {r.split(":")[0] for _, r in results} == {"duplicate", f"{order.number} paid"}
    assert StripeEvent.objects.count() == 1
    assert Order.objects.get().status == "paid"
    assert Receipt.objects.filter(subject=order.number).count() == 1
