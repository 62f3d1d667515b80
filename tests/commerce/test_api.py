"""/api/commerce/: public prices, and the buying flow with a company-scoped key; charlie sees nothing of Acme's."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from commerce.models import Quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_key(shop):
    out = StringIO()
    call_command("apikey", "create", "--name", "acme-erp", "--scopes", "commerce", "--company", "acme", "--as", "alice",
                 stdout=out)  # fmt: skip
    assert "Linked to Acme Metals; acts as alice" in out.getvalue()
    return out.getvalue().strip().splitlines()[-1]


def test_spot_and_products_are_public(client, shop):
    spot = client.get("/api/commerce/spot").json()
    assert {s["metal"] for s in spot} == {"XAU", "XAG", "XPT", "XPD"}
    assert all(s["source"] == "simulated" and s["stale"] is False for s in spot)
    product = client.get("/api/commerce/products/xag-coin-eagle-1oz").json()
    assert [t["min_qty"] for t in product["tiers"]] == [1, 50, 200, 500]
    assert product["tiers"][0]["max_qty"] == 49
    assert float(product["tiers"][0]["unit_ask"]) > float(product["tiers"][3]["unit_ask"]) > float(product["unit_bid"])
    assert client.get("/api/commerce/products/nope").json()["code"] == "unknown_sku"


def test_lock_and_execute_with_a_key(client, acme_key):
    headers = {"X-DREAMNET-KEY": acme_key}
    created = client.post("/api/commerce/quotes", {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 3}]},
                          content_type="application/json", headers=headers)  # fmt: skip
    assert created.status_code == 201, created.json()
    quote = created.json()
    executed = client.post(f"/api/commerce/quotes/{quote['id']}/execute", {"lock_token": quote["lock_token"]},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert executed.status_code == 201
    order = executed.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == quote["total"]
    listed = client.get("/api/commerce/orders", headers=headers).json()
    assert [o["number"] for o in listed] == [order["number"]]
    assert client.get(f"/api/commerce/orders/{order['number']}", headers=headers).status_code == 200


def test_an_expired_lock_answers_409_with_old_and_new_prices(client, acme_key):
    headers = {"X-DREAMNET-KEY": acme_key}
    quote = client.post("/api/commerce/quotes", {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}]},
                        content_type="application/json", headers=headers).json()  # fmt: skip
    Quote.objects.filter(pk=quote["id"]).update(expires_at=timezone.now() - timedelta(seconds=5))
    response = client.post(f"/api/commerce/quotes/{quote['id']}/execute", {"lock_token": quote["lock_token"]},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "lock_expired"
    assert body["requote"][0]["sku"] == "xau-coin-maple-1oz"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"lines": [{"sku": "xau-coin-maple-1oz", "quantity": "two"}]}, 422),
        ({"lines": [{"sku": "xau-coin-maple-1oz", "quantity": -1}]}, 422),
        ({"lines": []}, 422),
        ({"lines": [{"sku": "ghost", "quantity": 1}]}, 404),
        ({"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}], "payment_method": "bitcoin"}, 422),
    ],
)
def test_bad_quotes_are_specific_4xx(client, acme_key, body, status):
    response = client.post("/api/commerce/quotes", body, content_type="application/json",
                           headers={"X-DREAMNET-KEY": acme_key})  # fmt: skip
    assert response.status_code == status
    assert response.json()["detail"]
    assert not Quote.objects.exists()


def test_charlie_sees_nothing_of_acmes(client, acme_key, charlie):
    quote = client.post("/api/commerce/quotes", {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}]},
                        content_type="application/json", headers={"X-DREAMNET-KEY": acme_key}).json()  # fmt: skip
    client.force_login(charlie)
    assert client.get("/api/commerce/orders").json()["code"] == "no_company"
    assert client.get(f"/api/commerce/quotes/{quote['id']}").status_code == 403
    from commerce.models import Company, Membership

    other = Company.objects.create(slug="other", name="Other", kyc_status="verified")
    Membership.objects.create(company=other, user=charlie)
    assert client.get(f"/api/commerce/quotes/{quote['id']}").status_code == 404
    response = client.post(f"/api/commerce/quotes/{quote['id']}/execute", {"lock_token": quote["lock_token"]},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 404
    assert client.get("/api/commerce/orders").json() == []


def test_a_key_without_a_company_is_refused(client, shop):
    from dreamnet.apikeys import apikey_create

    _key, raw = apikey_create(name="loose", scopes=["commerce"])
    response = client.get("/api/commerce/orders", headers={"X-DREAMNET-KEY": raw})
    assert response.status_code == 403
    assert response.json()["code"] == "key_not_linked"


# As clients call: CSRF enforced, as it is for every request that is not from Django's test client.

LINES = {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}]}


def test_a_key_writes_without_a_csrf_token(acme_key):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/commerce/quotes", LINES, content_type="application/json",
                           headers={"X-DREAMNET-KEY": acme_key})  # fmt: skip
    assert response.status_code == 201, response.json()


def test_a_sent_key_decides_even_beside_a_session(shop, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/api/commerce/quotes", LINES, content_type="application/json",
                           headers={"X-DREAMNET-KEY": "dnk_000000000000_wrong"})  # fmt: skip
    assert response.status_code == 401


def test_a_session_write_needs_the_csrf_token(shop, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    refused = client.post("/api/commerce/quotes", LINES, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    token = client.get("/metals").cookies["csrftoken"].value
    accepted = client.post("/api/commerce/quotes", LINES, content_type="application/json",
                           headers={"X-CSRFToken": token})  # fmt: skip
    assert accepted.status_code == 201, accepted.json()


def test_no_key_and_no_session_is_401(shop):
    response = Client(enforce_csrf_checks=True).post("/api/commerce/quotes", LINES, content_type="application/json")
    assert response.status_code == 401
