"""Card and ACH through Stripe Checkout against a local Stripe stand-in; verified, idempotent webhooks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import CheckoutAttempt, Order, Product, StripeEvent
from commerce.payments import order_refund
from commerce.services import CommerceError, orders_expire, quote_execute, quote_lock
from mesh.models import Receipt
from tests.commerce.stripe_fake import FakeStripe, event, sign

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe()
    settings.STRIPE_SECRET_KEY = "sk_test_dreamnet"
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.SITE_URL = "https://shop.example.com"
    yield fake
    fake.close()


def _card_order(shop, alice, method="card", lines=(("xau-coin-maple-1oz", 3), ("xag-coin-eagle-1oz", 25))):
    quote = quote_lock(company=shop, by=alice, lines=list(lines), payment_method=method)
    return quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))


def _deliver(client, event_id, event_type, obj, *, secret=SECRET, timestamp=None):
    body = event(event_id, event_type, obj)
    return client.post("/stripe/webhook/", body, content_type="application/json",
                       headers={"Stripe-Signature": sign(body, secret, timestamp=timestamp)})  # fmt: skip


def _session(order, *, payment_status="paid", **extra):
    return {"id": order.checkout_attempts.last().session_id, "object": "checkout.session",
            "client_reference_id": order.number, "payment_status": payment_status,
            "amount_total": int(order.total * 100), "payment_intent": f"pi_{order.number}", **extra}  # fmt: skip


def test_without_stripe_keys_card_is_unavailable_and_says_why(shop, alice, client):
    with pytest.raises(CommerceError, match="not set up on this node") as exc:
        quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="card")
    assert exc.value.code == "payment_method_unavailable"
    client.force_login(alice)
    client.post("/cart/xau-coin-maple-1oz", {"quantity": 1})
    assert "not set up on this node (no Stripe key); pay by wire" in client.get("/cart/").content.decode()


def test_card_checkout_sends_exact_cents_per_line_and_idempotency_keys(shop, alice, client, fake_stripe):
    client.force_login(alice)
    quote = quote_lock(company=shop, by=alice, lines=[("xau-coin-maple-1oz", 3), ("xag-coin-eagle-1oz", 25)],
                       payment_method="card")  # fmt: skip
    response = client.post(f"/quotes/{quote.pk}/execute", {"lock_token": str(quote.lock_token)})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert order.payment_deadline == quote.expires_at  # card is paid inside the lock window

    (customer,) = fake_stripe.calls("/v1/customers")
    assert customer["idempotency_key"].startswith("customer-acme-")
    (session,) = fake_stripe.calls("/v1/checkout/sessions")
    form = session["form"]
    assert session["idempotency_key"] == f"checkout-{order.number}-1"
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == order.number
    assert form["customer"] == "cus_test1"
    assert form["metadata[quote]"] == str(quote.pk)
    assert form["payment_method_types[0]"] == "card"
    lines = list(order.lines.order_by("pk"))
    for i, line in enumerate(lines):
        assert form[f"line_items[{i}][quantity]"] == "1"
        assert int(form[f"line_items[{i}][price_data][unit_amount]"]) == int(line.line_total * 100)
    assert sum(int(form[f"line_items[{i}][price_data][unit_amount]"]) for i in range(len(lines))) == int(
        order.total * 100
    )
    assert form["success_url"].startswith(f"https://shop.example.com/checkout/return/{order.number}/")
    # The card surcharge (4 %) is in the locked line totals.
    assert lines[0].line_total == (lines[0].unit_price * 3 * Decimal("1.04")).quantize(Decimal("0.01"))


def test_a_completed_checkout_pays_the_order_once(shop, alice, client, fake_stripe):
    order = _card_order(shop, alice)
    from commerce.payments import checkout_start

    checkout_start(order=order)
    first = _deliver(client, "evt_1", "checkout.session.completed", _session(order))
    assert first.json()["result"] == f"{order.number} paid"
    again = _deliver(client, "evt_1", "checkout.session.completed", _session(order))
    assert again.json()["result"].startswith("duplicate")
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.payment_intent == f"pi_{order.number}"
    assert Receipt.objects.filter(subject=order.number).count() == 1
    # Stripe may deliver `expired` late; it must not move a paid order backwards.
    late = _deliver(client, "evt_2", "checkout.session.expired", _session(order, status="expired"))
    assert "stays paid" in late.json()["result"]
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "Signature check failed"), ("t=1,v1=deadbeef", "Signature check failed")],
)
def test_bad_signatures_are_400_and_store_nothing(client, fake_stripe, header, reason):
    body = event("evt_x", "checkout.session.completed", {"id": "cs_1"})
    headers = {"Stripe-Signature": header} if header else {}
    response = client.post("/stripe/webhook/", body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not StripeEvent.objects.exists()


def test_a_stale_signature_is_refused(client, fake_stripe):
    old = int((timezone.now() - timedelta(minutes=10)).timestamp())
    response = _deliver(client, "evt_old", "charge.refunded", {"id": "ch_1"}, timestamp=old)
    assert response.status_code == 400
    assert "tolerance" in response.json()["detail"].lower()
    assert not StripeEvent.objects.exists()


def test_malformed_bodies_are_400(client, fake_stripe):
    body = b'{"not": "an event"}'
    response = client.post("/stripe/webhook/", body, content_type="application/json",
                           headers={"Stripe-Signature": sign(body, SECRET)})  # fmt: skip
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_events_for_unknown_orders_are_stored_and_flagged(client, fake_stripe):
    response = _deliver(
        client, "evt_u", "checkout.session.completed", {"id": "cs_zzz", "client_reference_id": "PSD-NOPE"}
    )
    assert response.status_code == 200
    row = StripeEvent.objects.get()
    assert row.needs_review
    assert "no order matches" in row.result


def test_unknown_types_are_stored_and_acknowledged(client, fake_stripe):
    response = _deliver(client, "evt_t", "payout.paid", {"id": "po_1"})
    assert response.status_code == 200
    assert StripeEvent.objects.get().type == "payout.paid"


def test_ach_settles_later_success_and_failure(shop, alice, client, fake_stripe):
    from commerce.payments import checkout_start

    paid_order = _card_order(shop, alice, method="ach")
    checkout_start(order=paid_order)
    assert fake_stripe.calls("/v1/checkout/sessions")[-1]["form"]["payment_method_types[0]"] == "us_bank_account"
    _deliver(client, "evt_a1", "checkout.session.completed", _session(paid_order, payment_status="unpaid"))
    paid_order.refresh_from_db()
    assert paid_order.status == "pending_payment"
    assert paid_order.payment_submitted_at is not None
    # A submitted debit outlives the lock: the expiry sweep leaves it alone.
    Order.objects.filter(pk=paid_order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    assert orders_expire() == []
    _deliver(client, "evt_a2", "checkout.session.async_payment_succeeded", _session(paid_order))
    paid_order.refresh_from_db()
    assert paid_order.status == "paid"

    stock = Product.objects.get(sku="xau-coin-maple-1oz").stock
    failed_order = _card_order(shop, alice, method="ach", lines=(("xau-coin-maple-1oz", 2),))
    checkout_start(order=failed_order)
    _deliver(client, "evt_b1", "checkout.session.completed", _session(failed_order, payment_status="unpaid"))
    _deliver(client, "evt_b2", "checkout.session.async_payment_failed", _session(failed_order, payment_status="unpaid"))
    failed_order.refresh_from_db()
    assert failed_order.status == "cancelled"
    assert Product.objects.get(sku="xau-coin-maple-1oz").stock == stock


def test_the_lock_expiring_first_expires_the_session_and_the_order(shop, alice, fake_stripe):
    from commerce.payments import checkout_start

    order = _card_order(shop, alice)
    attempt = checkout_start(order=order)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(seconds=1))
    (expired,) = orders_expire()
    assert expired.status == "expired"
    assert fake_stripe.calls(f"/v1/checkout/sessions/{attempt.session_id}/expire")
    assert CheckoutAttempt.objects.get().status == "expired"
    assert not any(r["path"] == "/v1/charges" for r in fake_stripe.requests)  # nothing charged


def test_refund_from_the_admin_follows_the_webhook(shop, alice, olivia, client, fake_stripe):
    from commerce.payments import checkout_start

    order = _card_order(shop, alice)
    checkout_start(order=order)
    _deliver(client, "evt_p", "checkout.session.completed", _session(order))
    order.refresh_from_db()
    refund = order_refund(order=order, by=olivia)
    (call,) = fake_stripe.calls("/v1/refunds")
    assert call["form"]["payment_intent"] == order.payment_intent
    assert call["idempotency_key"] == f"refund-{order.number}-1"
    assert refund.stripe_refund_id.startswith("re_test")
    order.refresh_from_db()
    assert order.status == "paid"  # until Stripe confirms
    charge = {"id": "ch_1", "object": "charge", "payment_intent": order.payment_intent,
              "amount": int(order.total * 100), "amount_refunded": int(order.total * 100)}  # fmt: skip
    _deliver(client, "evt_r", "charge.refunded", charge)
    order.refresh_from_db()
    assert order.status == "refunded"


def test_a_buyer_returning_from_stripe_sees_only_their_own_orders(shop, alice, charlie, client, fake_stripe):
    order = _card_order(shop, alice)
    client.force_login(alice)
    page = client.get(f"/checkout/return/{order.number}/?session_id=cs_x")
    assert "Stripe is confirming your payment" in page.content.decode()
    from commerce.models import Company, Membership

    other = Company.objects.create(slug="other", name="Other", kyc_status="verified")
    Membership.objects.create(company=other, user=charlie)
    client.force_login(charlie)
    assert client.get(f"/checkout/return/{order.number}/?session_id=cs_x").status_code == 404


def test_stripe_errors_become_a_clear_502(shop, alice, fake_stripe):
    from commerce.payments import checkout_start

    order = _card_order(shop, alice)
    fake_stripe.fail_next = 400
    with pytest.raises(CommerceError, match="Stripe refused to"):
        checkout_start(order=order)


def test_an_operator_refunds_some_units_of_a_line_in_the_admin(shop, alice, olivia, client, fake_stripe):
    from commerce.payments import checkout_start

    order = _card_order(shop, alice)
    checkout_start(order=order)
    _deliver(client, "evt_p2", "checkout.session.completed", _session(order))
    line = order.lines.order_by("pk").first()  # 3 gold coins
    olivia.is_superuser = True
    olivia.save()
    client.force_login(olivia)
    page = client.get(f"/admin/commerce/order/{order.pk}/refund/")
    assert "Left to refund" in page.content.decode()
    too_many = client.post(f"/admin/commerce/order/{order.pk}/refund/", {f"line-{line.pk}": "4"}, follow=True)
    assert "has 3 unit(s) left to refund; 4 asked" in too_many.content.decode()
    client.post(f"/admin/commerce/order/{order.pk}/refund/", {f"line-{line.pk}": "1"})
    (call,) = fake_stripe.calls("/v1/refunds")
    expected = (line.line_total / 3).quantize(Decimal("0.01"))
    assert call["form"]["amount"] == str(int(expected * 100))
    refund = order.refunds.get()
    assert refund.amount == expected
    assert refund.lines == {str(line.pk): 1}
    partial = {"id": "ch_2", "object": "charge", "payment_intent": order.payment_intent,
               "amount": int(order.total * 100), "amount_refunded": int(expected * 100)}  # fmt: skip
    _deliver(client, "evt_r2", "charge.refunded", partial)
    order.refresh_from_db()
    assert order.status == "paid"  # a partial refund keeps the order
