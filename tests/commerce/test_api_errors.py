"""/api/commerce/ refusals: each answers the service's status, code and detail (plus its extra fields), nothing else."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from commerce.models import Order, Quote

pytestmark = pytest.mark.django_db
MAPLE = {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}]}


@pytest.fixture
def headers(shop):
    out = StringIO()
    call_command("apikey", "create", "--name", "acme-erp", "--scopes", "commerce", "--company", "acme", "--as", "alice",
                 stdout=out)  # fmt: skip
    return {"X-DREAMNET-KEY": out.getvalue().strip().splitlines()[-1]}


def _quote(client, headers, body=MAPLE):
    return client.post("/api/commerce/quotes", body, content_type="application/json", headers=headers)


def test_an_unknown_payment_method_is_422(client, headers):
    response = _quote(client, headers, MAPLE | {"payment_method": "barter"})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] == "bad_payment_method"
    assert body["detail"].startswith("Payment method 'barter' is not available; use one of ")
    assert not Quote.objects.exists()


def test_a_foreign_lock_token_is_403_without_a_requote(client, headers):
    quote = _quote(client, headers).json()
    response = client.post(f"/api/commerce/quotes/{quote['id']}/execute", {"lock_token": "not-the-token"},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 403
    assert response.json() == {"detail": "The lock token does not belong to this quote.", "code": "bad_lock_token"}
    assert not Order.objects.exists()


def test_an_expired_lock_carries_exactly_its_requote(client, headers):
    quote = _quote(client, headers).json()
    Quote.objects.filter(pk=quote["id"]).update(expires_at=timezone.now() - timedelta(seconds=5))
    response = client.post(f"/api/commerce/quotes/{quote['id']}/execute", {"lock_token": quote["lock_token"]},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 409
    body = response.json()
    assert list(body) == ["detail", "code", "requote"] and body["code"] == "lock_expired"
    assert [line["sku"] for line in body["requote"]] == ["xau-coin-maple-1oz"]


def test_a_buyer_cannot_approve(client, headers):
    quote = _quote(client, headers).json()
    response = client.post(f"/api/commerce/quotes/{quote['id']}/approve", headers=headers)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only an approver or admin of the company can approve.",
        "code": "not_approver",
    }
