"""The commerce buying API as clients call it: a company key over real HTTP with no CSRF token, and a signed-in
browser session that must send its CSRF token (``key_or_session``)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from commerce.models import Company
from tests.clients.conftest import csrf_token, sign_in
from tests.commerce.conftest import catalog, spot  # noqa: F401  (fixtures)

QUOTES = "/api/commerce/quotes"
LINES = {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}]}
WIRE_LINES = {"lines": [{"sku": "xau-coin-maple-1oz", "quantity": 1}], "payment_method": "wire"}


@pytest.fixture
def acme(catalog, spot, alice, bob):  # noqa: F811  (the imported fixtures)
    """Acme as an operator sets it up: a verified company, alice a buyer, bob an approver (the commerce tests'
    catalog and spot fixtures supply the demo catalog and a fresh simulated spot)."""
    _command("company", "create", "acme", "--name", "Acme Metals", "--verified")
    _command("company", "add-member", "acme", "alice", "--role", "buyer")
    _command("company", "add-member", "acme", "bob", "--role", "approver")
    return Company.objects.get(slug="acme")


def _command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def key_as(acme):
    """Return a function creating a ``commerce`` key linked to Acme, acting as ``user`` (the raw key)."""

    def make(user) -> str:
        out = _command("apikey", "create", "--name", f"acme-{user.username}", "--scopes", "commerce",
                       "--company", "acme", "--as", user.username)  # fmt: skip
        return out.strip().splitlines()[-1]

    return make


@pytest.mark.covers(
    f"POST {QUOTES}", "POST /api/commerce/quotes/{quote_id}/approve", "POST /api/commerce/quotes/{quote_id}/execute"
)
def test_a_company_key_quotes_approves_and_executes_without_csrf(http, acme, key_as, alice, bob):
    acme.approval_threshold = 1
    acme.save(update_fields=["approval_threshold"])
    buyer, approver = http(key=key_as(alice)), http(key=key_as(bob))
    created = buyer.post(QUOTES, json=WIRE_LINES)
    assert created.status_code == 201, created.text
    quote = created.json()
    assert quote["needs_approval"] is True
    approved = approver.post(f"{QUOTES}/{quote['id']}/approve")
    assert approved.status_code == 200, approved.text
    executed = buyer.post(f"{QUOTES}/{quote['id']}/execute", json={"lock_token": quote["lock_token"]})
    assert executed.status_code == 201, executed.text
    assert executed.json()["status"] == "pending_payment"
    assert not buyer.cookies and not approver.cookies  # nothing ambient: the key alone authenticated


def test_a_session_write_without_the_csrf_token_is_403_csrf_failed(http, acme, alice):
    browser = sign_in(http(), alice)
    refused = browser.post(QUOTES, json=LINES)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert "X-CSRFToken" in refused.json()["detail"]


@pytest.mark.covers(f"POST {QUOTES}")
def test_a_session_write_with_the_csrf_token_succeeds(http, acme, alice):
    browser = sign_in(http(), alice)
    token = csrf_token(browser, "/metals")
    created = browser.post(QUOTES, json=LINES, headers={"X-CSRFToken": token})
    assert created.status_code == 201, created.text


@pytest.mark.covers("POST /api/commerce/quotes/{quote_id}/approve", "POST /api/commerce/quotes/{quote_id}/execute")
def test_session_approve_and_execute_need_the_token_and_pass_with_it(http, acme, alice, bob):
    acme.approval_threshold = 1
    acme.save(update_fields=["approval_threshold"])
    buyer, approver = sign_in(http(), alice), sign_in(http(), bob)
    buyer_token, approver_token = csrf_token(buyer, "/metals"), csrf_token(approver, "/metals")
    quote = buyer.post(QUOTES, json=WIRE_LINES, headers={"X-CSRFToken": buyer_token}).json()
    approve = f"{QUOTES}/{quote['id']}/approve"
    assert approver.post(approve).json()["code"] == "csrf_failed"
    assert approver.post(approve, headers={"X-CSRFToken": approver_token}).status_code == 200
    execute = f"{QUOTES}/{quote['id']}/execute"
    body = {"lock_token": quote["lock_token"]}
    assert buyer.post(execute, json=body).json()["code"] == "csrf_failed"
    executed = buyer.post(execute, json=body, headers={"X-CSRFToken": buyer_token})
    assert executed.status_code == 201, executed.text


def test_a_wrong_key_beside_a_session_is_401_not_the_session(http, acme, alice):
    browser = sign_in(http(key="dnk_000000000000_wrong"), alice)
    token = csrf_token(browser, "/metals")
    response = browser.post(QUOTES, json=LINES, headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"
