"""/treasury/ for members, the printable review, the operators' console and admin, the live socket."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.treasury.conftest import VITALIK, vault
from treasury.models import Snapshot, Wallet
from treasury.risk import snapshot_risk_store
from treasury.services import snapshot_request, snapshot_run, wallet_add

pytestmark = pytest.mark.django_db


def _run(company, by=None) -> Snapshot:
    return snapshot_run(snapshot=snapshot_request(company=company, by=by))


def test_a_member_adds_a_wallet_and_sees_it_valued(client, shop, alice):
    client.force_login(alice)
    empty = client.get("/treasury/").content.decode()
    assert "No snapshot yet" in empty and "never asks for, or stores, a private key" in empty
    added = client.post("/treasury/wallets", {"chain": "ethereum", "address": VITALIK.lower(), "label": "Ops"})
    assert added.status_code == 302
    assert Wallet.objects.get().address == VITALIK
    pending = Snapshot.objects.get(status="queued")  # adding a wallet queues a snapshot
    snapshot_run(snapshot=pending)
    page = client.get("/treasury/").content.decode()
    assert "Total value" in page and "simulated" in page and VITALIK in page
    assert f"/treasury/review/{pending.pk}/" in page


def test_a_bad_address_is_a_form_error(client, shop, alice):
    client.force_login(alice)
    refused = client.post("/treasury/wallets", {"chain": "ethereum", "address": VITALIK.replace("dA6BF", "da6BF"),
                                                "label": "Ops"})  # fmt: skip
    assert refused.status_code == 422
    assert "EIP-55 checksum" in refused.content.decode()
    assert not Wallet.objects.exists()


def test_the_page_shows_the_split_the_chart_holdings_and_risk(client, shop, alice, settings):
    settings.TREASURY_RISK_BACKEND, settings.TREASURY_RISK_PATHS = "numpy", 5_000
    vault(shop, alice, [("xau-coin-maple-1oz", 2)])
    wallet_add(company=shop, chain="solana", address="4Qkev8aNZcqFNSRhQzwyLMFSsi94jHqE8WNVTJzTP99F", label="Sol")
    _run(shop)
    last = snapshot_risk_store(snapshot=_run(shop))
    client.force_login(alice)
    page = client.get("/treasury/").content.decode()
    assert "Metal vs crypto" in page and '<svg class="chart"' in page
    assert "VaR 99 %" in page and 'data-horizon="10"' in page and "Contribution to the 10-day" in page
    assert 'data-holding="metal:XAU"' in page and 'data-holding="native:solana"' in page
    assert f"Snapshot #{last.pk}" in page
    partial = client.get("/treasury/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="treasury-live"') and "Watched wallets" not in partial


def test_the_review_is_printable_and_company_scoped(client, shop, alice, charlie):
    snapshot = _run(shop)
    client.force_login(alice)
    review = client.get(f"/treasury/review/{snapshot.pk}/").content.decode()
    assert "Treasury review: Acme Metals" in review and f"log entry #{snapshot.receipt_index}" in review
    outsider = Client()
    outsider.force_login(charlie)
    assert outsider.get(f"/treasury/review/{snapshot.pk}/").status_code == 403  # charlie is in no company


def test_operators_see_every_treasury(client, shop, olivia):
    snapshot = _run(shop)
    client.force_login(olivia)
    listing = client.get("/console/treasury/").content.decode()
    assert "Acme Metals" in listing
    detail = client.get("/console/treasury/acme/").content.decode()
    assert f"Snapshot #{snapshot.pk}" in detail
    assert client.get(f"/console/treasury/review/{snapshot.pk}/").status_code == 200


def test_the_admin_lists_every_model(client, shop, olivia):
    olivia.is_superuser = True
    olivia.save()
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops")
    snapshot = _run(shop)
    client.force_login(olivia)
    for url in ("/admin/treasury/wallet/", "/admin/treasury/snapshot/", "/admin/treasury/holding/",
                f"/admin/treasury/snapshot/{snapshot.pk}/change/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    refused = client.post("/admin/treasury/wallet/add/", {"company": shop.pk, "chain": "solana", "address": "0OIl",
                                                           "label": "x"})  # fmt: skip
    assert refused.status_code == 200 and "base58" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_the_socket_sends_the_members_treasury_events_and_refuses_outsiders(shop, alice, charlie):
    from asgiref.sync import sync_to_async

    from dreamnet.asgi import application

    @sync_to_async
    def session_cookie(user) -> str:
        c = Client()
        c.force_login(user)
        return c.cookies["sessionid"].value

    cookie = await session_cookie(alice)
    communicator = WebsocketCommunicator(
        application,
        "/ws/treasury/",
        headers=[(b"cookie", f"sessionid={cookie}".encode()), (b"origin", b"http://testserver")],
    )
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(_run)(shop)
    message = await communicator.receive_json_from(timeout=5)
    while message["event"]["topic"] != "treasury.snapshot.done":
        message = await communicator.receive_json_from(timeout=5)
    assert message["event"]["payload"]["company"] == "acme"
    await communicator.disconnect()
    outsider = WebsocketCommunicator(
        application,
        "/ws/treasury/",
        headers=[
            (b"cookie", f"sessionid={await session_cookie(charlie)}".encode()),
            (b"origin", b"http://testserver"),
        ],
    )
    connected, code = await outsider.connect()
    assert not connected and code == 4403
