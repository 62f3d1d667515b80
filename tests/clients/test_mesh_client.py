"""The mesh API as clients call it over real HTTP: artifacts, peers, the witness, webhooks and DreamSnail, each
write with a ``mesh`` key in ``X-DREAMNET-KEY`` (or none where the operation is public) and no cookies."""

from __future__ import annotations

import hashlib

import pytest

from mesh.log import checkpoint_sign
from mesh.models import Artifact, Peer, WebhookSubscription
from mesh.peers.services import peer_register
from tests.mesh.test_peers import FakeNode

DIGEST = hashlib.sha256(b"a client's document").hexdigest()


@pytest.fixture
def mesh(http, make_key):
    return http(key=make_key("mesh"))


@pytest.fixture
def fake():
    node = FakeNode()
    node.append(5)
    node.sign()
    yield node
    node.close()


@pytest.mark.covers("POST /api/mesh/artifacts")
def test_an_artifact_uploads_with_a_key(mesh):
    response = mesh.post(
        "/api/mesh/artifacts",
        files={"file": ("tour.txt", b"berlin52 tour", "text/plain")},
        data={"compression": "zstd"},
    )
    assert response.status_code == 201, response.text
    assert Artifact.objects.filter(blake3=response.json()["blake3"]).exists()
    assert not mesh.cookies


@pytest.mark.covers(
    "POST /api/mesh/peers",
    "POST /api/mesh/peers/{peer_id}/heartbeat",
    "POST /api/mesh/peers/{peer_id}/lift",
    "DELETE /api/mesh/peers/{peer_id}",
)
def test_peers_are_added_beaten_lifted_and_removed_with_a_key(mesh, fake):
    added = mesh.post("/api/mesh/peers", json={"url": fake.url, "verifier_key": fake.verifier_key})
    assert added.status_code == 201, added.text
    peer_id = added.json()["id"]
    beat = mesh.post(f"/api/mesh/peers/{peer_id}/heartbeat")
    assert beat.status_code == 200, beat.text
    assert beat.json()["state"] == "trusted"
    Peer.objects.filter(pk=peer_id).update(state="quarantined")
    lifted = mesh.post(f"/api/mesh/peers/{peer_id}/lift", json={"note": "checked by hand"})
    assert lifted.status_code == 200, lifted.text
    assert mesh.delete(f"/api/mesh/peers/{peer_id}").status_code == 204
    assert not Peer.objects.filter(pk=peer_id).exists()


@pytest.mark.covers("POST /api/mesh/peers/discover")
def test_a_peer_is_discovered_with_a_key(mesh, fake):
    offered = mesh.post("/api/mesh/peers/discover", json={"url": fake.url})
    assert offered.status_code == 200, offered.text
    assert offered.json()["verifier_key"] == fake.verifier_key


@pytest.mark.covers("POST /api/mesh/witness/add-checkpoint")
def test_the_witness_cosigns_a_known_peers_checkpoint_without_any_credential(http, fake):
    peer_register(url=fake.url, verifier_key=fake.verifier_key)
    response = http().post(
        "/api/mesh/witness/add-checkpoint", content=fake.push_body(0), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    assert response.text.startswith("— ")


@pytest.mark.covers(
    "POST /api/mesh/webhooks",
    "PATCH /api/mesh/webhooks/{sub_id}",
    "POST /api/mesh/webhooks/{sub_id}/pause",
    "POST /api/mesh/webhooks/{sub_id}/resume",
    "POST /api/mesh/webhooks/{sub_id}/rotate-secret",
    "DELETE /api/mesh/webhooks/{sub_id}",
)
def test_a_webhook_is_managed_with_a_key(mesh):
    created = mesh.post(
        "/api/mesh/webhooks", json={"name": "erp", "url": "https://erp.example.com/hook", "topics": ["order.*"]}
    )
    assert created.status_code == 201, created.text
    sub = f"/api/mesh/webhooks/{created.json()['id']}"
    patched = mesh.patch(sub, json={"topics": ["peer.*"]})
    assert (patched.status_code, patched.json()["topics"]) == (200, ["peer.*"])
    assert mesh.post(f"{sub}/pause", json={}).json()["state"] == "paused"
    assert mesh.post(f"{sub}/resume").json()["state"] == "active"
    rotated = mesh.post(f"{sub}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    assert mesh.delete(sub).status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.covers("POST /api/dreamsnail/commit", "POST /api/dreamsnail/commit/file", "POST /api/dreamsnail/verify")
def test_dreamsnail_commits_and_verifies_without_any_credential(http):
    public = http()
    committed = public.post("/api/dreamsnail/commit", json={"algorithm": "sha256", "digest": DIGEST})
    assert committed.status_code == 201, committed.text
    by_file = public.post("/api/dreamsnail/commit/file", files={"file": ("doc.txt", b"a client's document")})
    assert by_file.status_code == 201, by_file.text
    assert by_file.json()["digest"] == DIGEST
    checkpoint_sign(force=True)
    bundle = public.get(f"/api/dreamsnail/proof/{committed.json()['index']}").json()["bundle"]
    verified = public.post("/api/dreamsnail/verify", json={"bundle": bundle, "digest": DIGEST})
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
