"""/api/treasury/ as clients call it: a ``treasury`` key linked to a company over real HTTP with no CSRF token,
and a signed-in member's browser session that sends its CSRF token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from commerce.models import Company
from tests.clients.conftest import csrf_token, sign_in
from tests.treasury.conftest import SOL_OWNER, VITALIK
from treasury.models import Snapshot
from treasury.services import snapshot_run

WALLETS = "/api/treasury/wallets"


def _command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def acme(transactional_db, alice, charlie):
    _command("company", "create", "acme", "--name", "Acme Metals", "--verified")
    _command("company", "add-member", "acme", "alice", "--role", "buyer")
    _command("company", "create", "other", "--name", "Other Co", "--verified")
    _command("company", "add-member", "other", "charlie", "--role", "buyer")
    return Company.objects.get(slug="acme")


def _key(company: str, user: str, scopes: str = "treasury") -> str:
    out = _command("apikey", "create", "--name", f"{company}-{user}", "--scopes", scopes, "--company", company,
                   "--as", user)  # fmt: skip
    return out.strip().splitlines()[-1]


@pytest.mark.covers(f"POST {WALLETS}", "DELETE /api/treasury/wallets/{wallet_id}", "POST /api/treasury/snapshots")
def test_a_company_key_watches_wallets_and_values_them(http, acme):
    client = http(key=_key("acme", "alice"))
    added = client.post(WALLETS, json={"chain": "ethereum", "address": VITALIK.lower(), "label": "Ops"})
    assert added.status_code == 201, added.text
    assert added.json()["address"] == VITALIK  # stored checksummed
    sol = client.post(WALLETS, json={"chain": "solana", "address": SOL_OWNER, "label": "Sol"})
    assert sol.status_code == 201, sol.text
    queued = client.post("/api/treasury/snapshots")
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    again = client.post("/api/treasury/snapshots")
    assert again.status_code == 409 and again.json()["code"] == "snapshot_pending"
    assert again.json()["snapshot_id"] == queued.json()["id"]
    assert client.get("/api/treasury/valuation").json()["code"] == "no_snapshot"
    snapshot_run(snapshot=Snapshot.objects.get(pk=queued.json()["id"]))  # what the task cluster does
    valuation = client.get("/api/treasury/valuation")
    assert valuation.status_code == 200, valuation.text
    body = valuation.json()
    assert body["snapshot"]["simulated"] is True and body["snapshot"]["status"] == "done"
    assert {h["address"] for h in body["holdings"]} == {VITALIK, SOL_OWNER}
    assert all(h["quantity_source"] == "simulated" for h in body["holdings"])
    removed = client.delete(f"{WALLETS}/{added.json()['id']}")
    assert removed.status_code == 204
    assert [w["label"] for w in client.get(WALLETS).json()] == ["Sol"]
    assert not client.cookies


def test_bad_addresses_get_their_own_codes(http, acme):
    client = http(key=_key("acme", "alice"))
    cases = {
        ("ethereum", VITALIK.replace("dA6BF", "da6BF")): "bad_checksum",
        ("ethereum", "0x1234"): "bad_address_format",
        ("solana", SOL_OWNER[:-1] + "0"): "bad_base58",
        ("dogecoin", SOL_OWNER): "unsupported_chain",
        ("ethereum", "0x" + "ab" * 32): "private_key_refused",
    }
    for (chain, address), code in cases.items():
        refused = client.post(WALLETS, json={"chain": chain, "address": address, "label": "x"})
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text


def test_a_key_sees_only_its_company(http, acme):
    alice = http(key=_key("acme", "alice"))
    wallet = alice.post(WALLETS, json={"chain": "ethereum", "address": VITALIK, "label": "Ops"}).json()
    charlie = http(key=_key("other", "charlie"))
    assert charlie.get(WALLETS).json() == []
    assert charlie.delete(f"{WALLETS}/{wallet['id']}").status_code == 404
    unlinked = http(
        key=_command("apikey", "create", "--name", "loose", "--scopes", "treasury").strip().splitlines()[-1]
    )
    assert unlinked.get(WALLETS).json()["code"] == "key_not_linked"


@pytest.mark.covers(f"POST {WALLETS}")
def test_a_member_session_adds_a_wallet_with_the_csrf_token(http, acme, alice):
    browser = sign_in(http(), alice)
    refused = browser.post(WALLETS, json={"chain": "vechain", "address": VITALIK, "label": "Vet"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = csrf_token(browser, "/metals")
    added = browser.post(WALLETS, json={"chain": "vechain", "address": VITALIK, "label": "Vet"},
                         headers={"X-CSRFToken": token})  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["address"] == VITALIK.lower()
