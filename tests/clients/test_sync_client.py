"""The sync API as clients call it over real HTTP with a ``sync`` key: open a portal, join one, close them."""

from __future__ import annotations

import nacl.signing
import pytest
from django.utils import timezone

from mesh.models import Peer, Portal, SyncTransfer
from mesh.note import Signer


@pytest.fixture
def sync(http, make_key):
    return http(key=make_key("sync"))


@pytest.fixture
def opener_peer(transactional_db):
    key = nacl.signing.SigningKey(b"\x05" * 32)
    peer = Peer.objects.create(url="http://127.0.0.1:9", origin="opener.test", pinned_via="operator", score=50.0,
                               verifier_key=Signer("opener.test", key).verifier_key, score_at=timezone.now())  # fmt: skip
    return peer, bytes(key.verify_key).hex()


@pytest.mark.covers("POST /api/sync/portals", "POST /api/sync/portals/{portal_id}/close")
def test_a_portal_opens_and_closes_with_a_key(sync, tmp_path):
    opened = sync.post("/api/sync/portals", json={"path": str(tmp_path / "shared"), "name": "shared"})
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["key"].startswith("dnportal1." + body["portal"]) and (tmp_path / "shared").is_dir()
    assert [p["portal"] for p in sync.get("/api/sync/portals").json()] == [body["portal"]]
    closed = sync.post(f"/api/sync/portals/{body['portal']}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert sync.post("/api/sync/portals/nope/close").json()["code"] == "unknown_portal"
    assert not sync.cookies


@pytest.mark.covers("POST /api/sync/portals/connect")
def test_a_peers_portal_is_joined_and_a_wrong_key_is_refused(sync, opener_peer, tmp_path):
    peer, opener_key = opener_peer
    key = f"dnportal1.{'ab' * 16}.{'cd' * 32}.{opener_key}"
    joined = sync.post(
        "/api/sync/portals/connect", json={"key": key, "peer": "opener.test", "path": str(tmp_path / "j")}
    )
    assert joined.status_code == 201, joined.text
    assert Portal.objects.get(portal_id="ab" * 16).peer == peer
    wrong = sync.post("/api/sync/portals/connect", json={"key": "dnportal1.zz", "peer": "opener.test"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "bad_portal_key"
    other = f"dnportal1.{'ef' * 16}.{'cd' * 32}.{'00' * 32}"
    mismatch = sync.post("/api/sync/portals/connect", json={"key": other, "peer": "opener.test"})
    assert mismatch.json()["code"] == "peer_mismatch"
    unknown = sync.post("/api/sync/portals/connect", json={"key": key, "peer": "nobody.test"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_peer"
    assert sync.get("/api/sync/transfers").json() == [] and not SyncTransfer.objects.exists()


def test_the_sync_api_needs_the_sync_scope(http, make_key):
    assert http(key=make_key("mesh")).get("/api/sync/portals").status_code == 403
