"""Buyer pages end to end: sign up, browse live prices, cart, lock, execute; operator moves the order on."""

from __future__ import annotations

import pytest

from commerce.models import Company, Order

pytestmark = pytest.mark.django_db


def test_the_catalog_shows_live_prices_labelled_simulated(client, catalog, spot):
    page = client.get("/metals").content.decode()
    assert "1 oz Gold Maple Leaf" in page
    assert "simulated feed" in page
    assert 'data-spot="XAU"' in page
    gold_only = client.get("/metals?metal=XAU").content.decode()
    assert "Silver Eagle" not in gold_only


def test_the_catalog_says_when_there_is_no_spot(client, catalog):
    page = client.get("/metals").content.decode()
    assert "No spot prices yet" in page


def test_a_product_page_has_tiers_buyback_and_a_chart(client, catalog, spot):
    from commerce.services import spot_refresh

    spot_refresh()
    page = client.get("/metals/xag-coin-eagle-1oz").content.decode()
    assert "500+" in page and "We buy back at" in page
    assert '<svg class="chart"' in page
    assert client.get("/metals/unknown-sku").status_code == 404


def test_a_buyer_signs_up_then_orders_by_wire_once_verified(client, catalog, spot, olivia):
    response = client.post("/accounts/signup/", {"username": "dana", "email": "dana@example.com",
                           "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42",
                           "company_name": "Dana Bullion LLC"})  # fmt: skip
    assert response.status_code == 302
    company = Company.objects.get(slug="dana-bullion-llc")
    assert company.kyc_status == "pending"

    client.post("/cart/xau-coin-maple-1oz", {"quantity": 2, "add": "1"})
    cart = client.get("/cart/").content.decode()
    assert "1 oz Gold Maple Leaf" in cart and "Indicative total" in cart

    response = client.post("/checkout/lock", {"payment_method": "wire"})
    assert response.status_code == 302
    quote_page = client.get(response.headers["Location"]).content.decode()
    assert "data-countdown" in quote_page and "not verified yet" in quote_page

    quote_id = int(response.headers["Location"].strip("/").split("/")[-1])
    from commerce.models import Quote

    token = str(Quote.objects.get(pk=quote_id).lock_token)
    refused = client.post(f"/quotes/{quote_id}/execute", {"lock_token": token})
    assert refused.status_code == 403
    assert "not verified yet" in refused.content.decode()

    Company.objects.filter(pk=company.pk).update(kyc_status="verified")
    placed = client.post(f"/quotes/{quote_id}/execute", {"lock_token": token})
    order = Order.objects.get()
    assert placed.headers["Location"] == order.get_absolute_url()
    detail = client.get(order.get_absolute_url()).content.decode()
    assert order.wire_reference in detail and "Wire instructions" in detail

    admin = client.__class__()
    admin.force_login(olivia)
    olivia.is_superuser = True
    olivia.save()
    for action in ["mark_paid", "mark_allocated", "mark_vaulted"]:
        admin.post("/admin/commerce/order/", {"action": action, "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "vaulted"
    assert "Payment receipt sealed" in client.get(order.get_absolute_url()).content.decode()


def test_cart_updates_over_htmx_with_form_errors(client, shop, alice):
    client.force_login(alice)
    response = client.post("/cart/xag-coin-eagle-1oz", {"quantity": 3}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "sells in quantities of at least 20" in response.content.decode()
    ok = client.post("/cart/xag-coin-eagle-1oz", {"quantity": 25}, headers={"HX-Request": "true"})
    assert ok.headers["HX-Trigger"] == "cartChanged"
    assert ok.content.decode().lstrip().startswith('<section id="cart-lines"')
    removed = client.post("/cart/xag-coin-eagle-1oz", {"quantity": 0}, headers={"HX-Request": "true"})
    assert "Your cart is empty" in removed.content.decode()


def test_pages_without_a_company_explain_what_to_do(client, charlie):
    client.force_login(charlie)
    response = client.get("/cart/")
    assert response.status_code == 403
    assert "open a new company account" in response.content.decode()


def test_company_page_lists_members_and_limits(client, shop, alice):
    client.force_login(alice)
    page = client.get("/company/").content.decode()
    assert "Acme Metals" in page and "bob" in page and "KYC verified" in page


def test_the_cart_badge_listens_for_cart_changes_and_updates(client, shop, alice):
    client.force_login(alice)
    page = client.get("/cart/").content.decode()
    assert 'hx-trigger="cartChanged from:body"' in page
    assert 'hx-get="/cart/badge/"' in page
    assert 'class="badge"' not in client.get("/cart/badge/").content.decode()
    added = client.post("/cart/xau-coin-maple-1oz", {"quantity": 2}, headers={"HX-Request": "true"})
    assert added.headers["HX-Trigger"] == "cartChanged"
    badge = client.get(
        "/cart/badge/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/cart/"}
    ).content.decode()
    assert badge.startswith('<a id="cart-badge" href="/cart/" aria-current="page"')
    assert '<span class="badge" aria-label="1 line in the cart">1</span>' in badge
    client.post("/cart/xag-coin-eagle-1oz", {"quantity": 25}, headers={"HX-Request": "true"})
    assert ">2</span>" in client.get("/cart/badge/").content.decode()
