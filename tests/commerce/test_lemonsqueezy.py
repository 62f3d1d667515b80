"""Lemon Squeezy through the payment-provider interface, against a local Lemon Squeezy stand-in (JSON:API,
signed webhook deliveries, duplicates and out-of-order deliveries)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from commerce.models import CheckoutAttempt, Order, Plan, ProviderEvent, Subscription
from commerce.payments import checkout_start, methods_for_country, order_refund, payment_options, pending_retry
from commerce.payments.providers import payment_rules
from commerce.services import CommerceError, orders_expire, quote_execute, quote_lock
from mesh.models import Receipt
from tests.commerce.lemonsqueezy_fake import FakeLemonSqueezy, now_iso, sign, webhook

pytestmark = pytest.mark.django_db
SECRET = "ls_signing_secret"
URL = "/payments/lemonsqueezy/webhook"


@pytest.fixture
def fake_ls(settings):
    fake = FakeLemonSqueezy()
    settings.LEMONSQUEEZY_API_KEY = fake.api_key
    settings.LEMONSQUEEZY_STORE_ID = fake.store_id
    settings.LEMONSQUEEZY_API_BASE = fake.url
    settings.LEMONSQUEEZY_WEBHOOK_SECRET = SECRET
    settings.LEMONSQUEEZY_ORDER_VARIANT_ID = "501"
    settings.LEMONSQUEEZY_TIMEOUT_S = 1
    settings.SITE_URL = "https://shop.example.com"
    fake.secret = SECRET
    yield fake
    fake.close()


@pytest.fixture
def eu_shop(shop):
    shop.country, shop.currency = "DE", "EUR"
    shop.save(update_fields=["country", "currency"])
    return shop


def _ls_order(company, alice, lines=(("xau-coin-maple-1oz", 2), ("xag-coin-eagle-1oz", 25))):
    quote = quote_lock(company=company, by=alice, lines=list(lines), payment_method="lemonsqueezy")
    return quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))


def _post(client, body: bytes, *, secret: str = SECRET, signature: str | None = None):
    headers = {"X-Signature": signature if signature is not None else sign(body, secret)}
    return client.post(URL, body, content_type="application/json", headers=headers)


# Choosing a provider -------------------------------------------------------------------------------------


def test_country_rules_offer_stripe_in_the_us_and_lemon_squeezy_in_the_eu(settings):
    assert methods_for_country("US") == ["card", "ach", "wire"]
    assert methods_for_country("DE") == ["lemonsqueezy", "wire"]
    assert methods_for_country("fr") == ["lemonsqueezy", "wire"]
    assert methods_for_country("JP") == ["lemonsqueezy", "card", "wire"]
    settings.PAYMENT_RULES = "US:card,wire;CH:card"
    assert methods_for_country("CH") == ["card", "wire"]  # wire is always offered
    assert methods_for_country("DE") == ["wire"]  # no EU and no * rule
    with pytest.raises(ValueError, match="Bad payment rule"):
        payment_rules("US:card,bitcoin")


def test_without_keys_lemon_squeezy_is_unavailable_and_says_why(eu_shop, alice, client):
    with pytest.raises(CommerceError, match="Lemon Squeezy payments are not set up") as exc:
        quote_lock(company=eu_shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="lemonsqueezy")
    assert exc.value.code == "payment_method_unavailable"
    client.force_login(alice)
    client.post("/cart/xau-coin-maple-1oz", {"quantity": 1})
    page = client.get("/cart/").content.decode()
    assert "Lemon Squeezy payments are not set up on this node" in page
    assert 'value="lemonsqueezy" disabled' in page
    assert 'value="card"' not in page  # not offered in DE by default


def test_cart_shows_each_offered_method_with_its_fee(eu_shop, alice, client, fake_ls):
    client.force_login(alice)
    client.post("/cart/xau-coin-maple-1oz", {"quantity": 1})
    page = client.get("/cart/").content.decode()
    assert 'value="lemonsqueezy" data-provider="lemonsqueezy"' in page
    assert "+5 % on each line, merchant-of-record fee (Lemon Squeezy)" in page
    options = {o["method"]: o for o in payment_options(country="DE")}
    assert set(options) == {"lemonsqueezy", "wire"}
    assert options["lemonsqueezy"]["fee_percent"] == Decimal(5) and options["lemonsqueezy"]["unavailable"] is None


def test_a_method_not_offered_to_the_country_is_refused(eu_shop, alice, settings):
    settings.STRIPE_SECRET_KEY = "sk_test"
    with pytest.raises(CommerceError, match="not offered to companies in DE") as exc:
        quote_lock(company=eu_shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="card")
    assert exc.value.code == "payment_method_not_offered"


# Checkout --------------------------------------------------------------------------------------------------


def test_checkout_is_a_jsonapi_post_with_exact_cents_the_order_reference_and_the_lock_expiry(
    eu_shop, alice, client, fake_ls
):
    client.force_login(alice)
    quote = quote_lock(company=eu_shop, by=alice, lines=[("xau-coin-maple-1oz", 2)], payment_method="lemonsqueezy")
    response = client.post(f"/quotes/{quote.pk}/execute", {"lock_token": str(quote.lock_token)})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{fake_ls.url}/checkout/custom/")
    (call,) = fake_ls.calls("/v1/checkouts")
    assert call["headers"]["Content-Type"] == "application/vnd.api+json"
    assert call["headers"]["Authorization"] == "Bearer test_key"
    data = call["body"]["data"]
    assert data["type"] == "checkouts"
    assert data["attributes"]["custom_price"] == int(order.total * 100)
    assert data["attributes"]["checkout_data"]["custom"]["order"] == order.number
    assert data["attributes"]["expires_at"] == order.payment_deadline.isoformat().replace("+00:00", "Z")
    assert data["relationships"]["store"]["data"] == {"type": "stores", "id": "4242"}
    assert data["relationships"]["variant"]["data"] == {"type": "variants", "id": "501"}
    assert data["attributes"]["product_options"]["redirect_url"].endswith(f"/checkout/return/{order.number}/")
    # The merchant-of-record fee (5 %) is in the locked line totals, as the card surcharge is for card.
    line = order.lines.get()
    assert line.line_total == (line.unit_price * 2 * Decimal("1.05")).quantize(Decimal("0.01"))
    assert order.checkout_attempts.get().session_id == json.loads(json.dumps(list(fake_ls.checkouts)))[0]


def test_a_checkout_for_an_expired_lock_is_refused_before_calling_the_provider(eu_shop, alice, fake_ls):
    order = _ls_order(eu_shop, alice)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(seconds=1))
    order.refresh_from_db()
    with pytest.raises(CommerceError) as exc:
        checkout_start(order=order)
    assert exc.value.code == "lock_expired"
    assert not fake_ls.calls("/v1/checkouts")


@pytest.mark.parametrize(("failures", "code"), [([422], "lemonsqueezy_error"), ([500, 502, 503], "lemonsqueezy_error")])
def test_provider_refusals_and_outages_are_502_with_the_reason(eu_shop, alice, fake_ls, failures, code):
    order = _ls_order(eu_shop, alice)
    fake_ls.fail_next = list(failures)
    with pytest.raises(CommerceError) as exc:
        checkout_start(order=order)
    assert exc.value.code == code and exc.value.status == 502
    assert ("HTTP 422" in exc.value.detail) if failures == [422] else ("after 3 tries" in exc.value.detail)
    assert len(fake_ls.calls("/v1/checkouts")) == len(failures)  # 4xx is not retried; 5xx is, twice
    assert not CheckoutAttempt.objects.exists()


def test_a_transient_5xx_is_retried_and_the_checkout_opens(eu_shop, alice, fake_ls):
    order = _ls_order(eu_shop, alice)
    fake_ls.fail_next = [503]
    attempt = checkout_start(order=order)
    assert attempt.url.startswith(fake_ls.url) and len(fake_ls.calls("/v1/checkouts")) == 2


def test_a_provider_that_times_out_is_reported(eu_shop, alice, fake_ls):
    order = _ls_order(eu_shop, alice)
    fake_ls.delay_s = 1.5
    with pytest.raises(CommerceError, match="no answer within 1 s after 3 tries"):
        checkout_start(order=order)


# Webhooks ----------------------------------------------------------------------------------------------


def test_a_paid_order_is_applied_once_and_duplicates_do_nothing(eu_shop, alice, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    ls_order = fake_ls.order_for(attempt.session_id, country="DE")
    body = fake_ls.order_body(ls_order)
    first = _post(client, body)
    assert first.status_code == 200 and first.json()["result"] == f"{order.number} paid"
    for _ in range(3):
        assert _post(client, body).json()["result"].startswith("duplicate")
    order.refresh_from_db()
    assert order.status == "paid" and order.payment_intent == f"lemonsqueezy:{ls_order['id']}"
    assert Receipt.objects.filter(subject=order.number).count() == 1
    attempt.refresh_from_db()
    assert attempt.status == "completed"
    row = ProviderEvent.objects.get()
    assert row.provider == "lemonsqueezy" and row.type == "order_created" and not row.needs_review
    assert row.payload["data"]["attributes"]["tax"] > 0  # the buyer's VAT, Lemon Squeezy's to remit


@pytest.mark.parametrize(
    ("signature", "reason"),
    [("", "no X-Signature"), ("deadbeef", "does not match"), (None, "does not match")],
)
def test_bad_or_missing_signatures_are_400_and_store_nothing(client, fake_ls, signature, reason):
    body = webhook("order_created", "orders", "1", {"status": "paid", "created_at": now_iso()}, {"order": "X"})
    if signature is None:  # signed with another secret
        signature = sign(body, "someone-else")
    response = _post(client, body, signature=signature)
    assert response.status_code == 400 and reason in response.json()["detail"]
    assert response.json()["code"] == "bad_webhook"
    assert not ProviderEvent.objects.exists()


def test_a_replayed_event_outside_the_tolerance_is_refused(client, fake_ls, settings):
    old = now_iso(-settings.LEMONSQUEEZY_WEBHOOK_TOLERANCE_S - 60)
    body = webhook("order_created", "orders", "9", {"status": "paid", "created_at": old, "updated_at": old})
    response = _post(client, body)
    assert response.status_code == 400 and "tolerance" in response.json()["detail"]
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b'{"meta": {}}', b'{"meta": {"event_name": "x"}, "data": []}'])
def test_malformed_bodies_are_400(client, fake_ls, body):
    assert _post(client, body).status_code == 400
    assert not ProviderEvent.objects.exists()


def test_without_a_signing_secret_webhooks_are_refused(client, fake_ls, settings):
    settings.LEMONSQUEEZY_WEBHOOK_SECRET = None
    body = webhook("order_created", "orders", "1", {"created_at": now_iso()})
    response = _post(client, body)
    assert response.status_code == 400 and "LEMONSQUEEZY_WEBHOOK_SECRET" in response.json()["detail"]


def test_unknown_event_types_are_stored_and_acknowledged(client, fake_ls):
    body = webhook("license_key_created", "license-keys", "5", {"created_at": now_iso()})
    response = _post(client, body)
    assert response.status_code == 200 and "needs no action" in response.json()["result"]
    row = ProviderEvent.objects.get()
    assert row.type == "license_key_created" and not row.needs_review and not row.pending


def test_a_webhook_for_an_unknown_order_is_stored_and_flagged(client, fake_ls):
    body = webhook("order_created", "orders", "7", {"status": "paid", "subtotal": 100, "created_at": now_iso()},
                   {"order": "PSD-NOPE"})  # fmt: skip
    response = _post(client, body)
    assert response.status_code == 200
    row = ProviderEvent.objects.get()
    assert row.needs_review and "no order matches" in row.result


def test_a_paid_amount_that_differs_from_the_order_is_flagged_not_applied(eu_shop, alice, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    ls_order = fake_ls.order_for(attempt.session_id)
    ls_order["attributes"]["subtotal"] -= 1
    _post(client, fake_ls.order_body(ls_order))
    order.refresh_from_db()
    assert order.status == "pending_payment" and ProviderEvent.objects.get().needs_review


def test_a_failed_order_cancels_and_releases_stock(eu_shop, alice, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    _post(client, fake_ls.order_body(fake_ls.order_for(attempt.session_id, status="failed")))
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_the_lock_ends_and_the_order_expires_without_calling_the_provider(eu_shop, alice, fake_ls):
    order = _ls_order(eu_shop, alice)
    checkout_start(order=order)
    calls = len(fake_ls.requests)
    expired = orders_expire(now=order.payment_deadline + timedelta(seconds=1))
    assert [o.number for o in expired] == [order.number]
    assert order.checkout_attempts.get().status == "expired"
    assert len(fake_ls.requests) == calls  # the checkout carries expires_at; nothing to close
    # The fake refuses the page of an expired checkout, as Lemon Squeezy does.
    import httpx2

    fake_ls.checkouts[order.checkout_attempts.get().session_id]["attributes"]["expires_at"] = now_iso(-1)
    assert httpx2.get(order.checkout_attempts.get().url).status_code == 410


def test_refunds_whole_and_by_line_through_lemon_squeezy(eu_shop, alice, bob, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    ls_order = fake_ls.order_for(attempt.session_id, country="FR")
    _post(client, fake_ls.order_body(ls_order))
    order.refresh_from_db()
    line = order.lines.order_by("pk").first()
    part = order_refund(order=order, by=bob, lines={line.pk: 1})
    (call,) = fake_ls.calls(f"/v1/orders/{ls_order['id']}/refund")
    assert call["body"]["data"] == {
        "type": "orders",
        "id": ls_order["id"],
        "attributes": {"amount": int(part.amount * 100)},
    }
    assert part.stripe_refund_id.startswith(f"lemonsqueezy:{ls_order['id']}/refund-1")
    # Lemon Squeezy confirms a partial refund: the order stays paid.
    partial = _post(client, fake_ls.order_body(fake_ls.orders[ls_order["id"]], "order_refunded"))
    assert "partial refund" in partial.json()["result"]
    whole = order_refund(order=order, by=bob)
    assert "amount" not in fake_ls.calls("/refund")[-1]["body"]["data"]["attributes"]
    assert whole.amount == order.total - part.amount
    # The tax-inclusive total is refunded in full only once the rest (and its VAT) goes back.
    attrs = fake_ls.orders[ls_order["id"]]["attributes"]
    attrs.update(refunded=True, refunded_amount=attrs["total"], updated_at=now_iso(1))
    done = _post(client, fake_ls.order_body(fake_ls.orders[ls_order["id"]], "order_refunded"))
    assert done.json()["result"] == f"{order.number} refunded"
    order.refresh_from_db()
    assert order.status == "refunded"


def test_a_refund_that_overtakes_its_payment_waits_in_the_inbox_and_is_retried(eu_shop, alice, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    ls_order = fake_ls.order_for(attempt.session_id)
    paid_body = fake_ls.order_body(ls_order)
    ls_order["attributes"].update(refunded=True, refunded_amount=ls_order["attributes"]["total"],
                                  updated_at=now_iso(1))  # fmt: skip
    refund_body = fake_ls.order_body(ls_order, "order_refunded")
    early = _post(client, refund_body)
    assert early.status_code == 200 and early.json()["result"].startswith("pending: ")
    assert ProviderEvent.objects.get(type="order_refunded").pending
    assert pending_retry() == [f"lemonsqueezy {ProviderEvent.objects.get().event_id}: pending: {order.number} is not "
                               "paid yet; the refund waits for the payment"]  # fmt: skip
    _post(client, paid_body)
    assert _post(client, refund_body).json()["result"].startswith("duplicate")  # a retry by the provider
    (done,) = pending_retry()
    assert done.endswith(f"{order.number} refunded")
    order.refresh_from_db()
    assert order.status == "refunded"
    assert not ProviderEvent.objects.filter(pending=True).exists()
    assert pending_retry() == []


# Plans and subscriptions -----------------------------------------------------------------------------------


@pytest.fixture
def plan(db):
    return Plan.objects.create(slug="pro", name="Pro", monthly_price=Decimal("49.00"), features="Daily brief")


def test_sync_plans_finds_each_plans_variant_over_pages(plan, fake_ls, capsys):
    fake_ls.variants += [
        {"id": str(600 + i), "product": f"Other {i}", "name": "Default", "slug": f"o{i}", "price": 1, "sub": True}
        for i in range(120)
    ]
    fake_ls.variants.append(
        {"id": "777", "product": "DreamNet Pro", "name": "Default", "slug": "d", "price": 4900, "sub": True}
    )
    call_command("lemonsqueezy_sync_plans")
    plan.refresh_from_db()
    assert plan.lemonsqueezy_variant_id == "777"
    assert "pro: variant 777" in capsys.readouterr().out
    assert len(fake_ls.calls("/v1/variants")) == 2  # 122 variants, 100 a page
    call_command("lemonsqueezy_sync_plans")
    assert "up to date" in capsys.readouterr().out


def test_sync_plans_reports_a_missing_variant_and_a_price_mismatch(plan, fake_ls, capsys):
    call_command("lemonsqueezy_sync_plans")
    assert "no Lemon Squeezy subscription variant named 'Pro'" in capsys.readouterr().out
    fake_ls.variants.append({"id": "778", "product": "X", "name": "Pro", "slug": "x", "price": 3900, "sub": True})
    call_command("lemonsqueezy_sync_plans")
    assert "variant lists 3900 cents" in capsys.readouterr().out


def test_sync_plans_without_keys_fails_with_the_reason(plan, settings):
    from django.core.management.base import CommandError

    settings.LEMONSQUEEZY_API_KEY = None
    with pytest.raises(CommandError, match="not set up"):
        call_command("lemonsqueezy_sync_plans")


def _subscription(event_name: str, status: str, *, stamp: str, variant: str = "777", **extra) -> bytes:
    attributes = {"store_id": 4242, "customer_id": 77, "order_id": 1001, "variant_id": int(variant),
                  "status": status, "renews_at": now_iso(30 * 86400), "ends_at": None,
                  "created_at": stamp, "updated_at": stamp, **extra}  # fmt: skip
    return webhook(event_name, "subscriptions", "3131", attributes, {"company": "acme", "plan": "pro"})


def test_subscription_lifecycle_in_and_out_of_order(shop, plan, client, fake_ls):
    plan.lemonsqueezy_variant_id = "777"
    plan.save()
    t0, t1, t2 = now_iso(-30), now_iso(-20), now_iso(-10)
    invoice = webhook("subscription_payment_success", "subscription-invoices", "88",
                      {"subscription_id": 3131, "status": "paid", "created_at": t1, "updated_at": t1},
                      {"company": "acme", "plan": "pro"})  # fmt: skip
    # The invoice overtakes the subscription: it waits, then applies once the subscription exists.
    assert _post(client, invoice).json()["result"].startswith("pending")
    created = _post(client, _subscription("subscription_created", "active", stamp=t0))
    assert created.json()["result"].startswith("lemonsqueezy:3131: acme on pro is active")
    sub = Subscription.objects.get()
    assert sub.stripe_subscription_id == "lemonsqueezy:3131" and sub.current_period_end > timezone.now()
    (retried,) = pending_retry()
    assert "→ active" in retried
    # Cancelled: access lasts until the paid period ends; a late `updated` older than it changes nothing.
    ends = now_iso(5 * 86400)
    _post(client, _subscription("subscription_cancelled", "cancelled", stamp=t2, ends_at=ends))
    late = _post(client, _subscription("subscription_updated", "past_due", stamp=t1))
    assert "older than the last applied event" in late.json()["result"]
    sub.refresh_from_db()
    assert sub.status == "active" and sub.current_period_end.isoformat()[:19] == ends[:19]
    _post(client, _subscription("subscription_expired", "expired", stamp=now_iso(), ends_at=now_iso(-1)))
    sub.refresh_from_db()
    assert sub.status == "canceled"
    failed = webhook("subscription_payment_failed", "subscription-invoices", "89",
                     {"subscription_id": 3131, "status": "failed", "created_at": now_iso(1),
                      "updated_at": now_iso(1)}, {"company": "acme"})  # fmt: skip
    assert "→ past_due" in _post(client, failed).json()["result"]


# Admin ---------------------------------------------------------------------------------------------------


def test_admin_shows_provider_ids_raw_events_and_refunds_by_line_through_lemon_squeezy(
    eu_shop, alice, client, fake_ls, admin_client
):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    ls_order = fake_ls.order_for(attempt.session_id)
    _post(client, fake_ls.order_body(ls_order))
    listing = admin_client.get("/admin/commerce/order/").content.decode()
    assert "lemonsqueezy" in listing and f"lemonsqueezy:{ls_order['id']}" in listing
    row = ProviderEvent.objects.get()
    detail = admin_client.get(f"/admin/commerce/providerevent/{row.pk}/change/").content.decode()
    assert "order_created" in detail and ls_order["attributes"]["identifier"] in detail  # the raw verified body
    page = admin_client.get(f"/admin/commerce/order/{order.pk}/refund/").content.decode()
    assert "Refund through Lemon Squeezy" in page
    line = order.lines.order_by("pk").first()
    response = admin_client.post(f"/admin/commerce/order/{order.pk}/refund/", {f"line-{line.pk}": "1"})
    assert response.status_code == 302
    (call,) = fake_ls.calls("/refund")
    assert call["body"]["data"]["attributes"]["amount"] == int(order.refunds.get().amount * 100)


def test_an_eu_company_subscribes_through_lemon_squeezy_at_the_plans_price(eu_shop, alice, plan, client, fake_ls):
    plan.lemonsqueezy_variant_id = "777"
    plan.save()
    client.force_login(alice)
    response = client.post("/metals/intelligence/subscribe/pro")
    assert response.status_code == 302 and response.headers["Location"].startswith(f"{fake_ls.url}/checkout/custom/")
    data = fake_ls.calls("/v1/checkouts")[0]["body"]["data"]
    assert data["attributes"]["custom_price"] == 4900
    assert data["attributes"]["checkout_data"]["custom"] == {"company": "acme", "plan": "pro"}
    assert data["attributes"]["expires_at"] is None
    assert data["relationships"]["variant"]["data"]["id"] == "777"


def test_signup_records_the_company_country_and_its_offer(client, db):
    response = client.post("/accounts/signup/", {"username": "eva", "email": "eva@example.eu",
                                                 "password1": "x-Very-long-pass-42", "password2": "x-Very-long-pass-42",
                                                 "company_name": "Berlin Bullion", "country": "de"})  # fmt: skip
    assert response.status_code == 302
    from commerce.models import Company

    company = Company.objects.get(slug="berlin-bullion")
    assert (company.country, company.currency) == ("DE", "EUR")
    bad = client.post("/accounts/signup/", {"username": "x", "email": "x@example.eu", "password1": "x-Very-long-42",
                                            "password2": "x-Very-long-42", "company_name": "Other", "country": "Germany"})  # fmt: skip
    assert bad.status_code == 200 and "two-letter country code" in bad.content.decode()


def test_only_pages_whose_forms_lead_to_a_provider_allow_its_checkout_in_form_action(eu_shop, alice, client, fake_ls):
    client.force_login(alice)
    quote = quote_lock(company=eu_shop, by=alice, lines=[("xau-coin-maple-1oz", 1)], payment_method="lemonsqueezy")
    policy = client.get(f"/quotes/{quote.pk}/").headers["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert "https://*.lemonsqueezy.com" in form_action and "https://checkout.stripe.com" in form_action
    cart = client.get("/cart/").headers["Content-Security-Policy"]
    assert next(d for d in cart.split(";") if d.strip().startswith("form-action")).strip() == "form-action 'self'"


def test_the_company_command_sets_the_country(db):
    from commerce.models import Company

    call_command("company", "create", "lyon-or", "--name", "Lyon Or", "--country", "fr", "--currency", "eur")
    assert Company.objects.filter(slug="lyon-or", country="FR", currency="EUR").exists()
    with pytest.raises(Exception, match="two letters"):
        call_command("company", "create", "x-co", "--name", "X", "--country", "France")


def test_a_refund_is_never_retried_blindly(eu_shop, alice, bob, client, fake_ls):
    order = _ls_order(eu_shop, alice)
    attempt = checkout_start(order=order)
    _post(client, fake_ls.order_body(fake_ls.order_for(attempt.session_id)))
    order.refresh_from_db()
    fake_ls.fail_next = [502]
    with pytest.raises(CommerceError, match="after 1 tries"):
        order_refund(order=order, by=bob)
    assert len(fake_ls.calls("/refund")) == 1 and not order.refunds.exists()
