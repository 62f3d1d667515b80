"""The public log API: node, checkpoint, entries and proofs, checked as an outside verifier would."""

from __future__ import annotations

import base64

import pytest

import mesh
from mesh import merkle
from mesh.log import LogInconsistent, checkpoint_sign
from mesh.models import TreeNode
from mesh.note import Verifier, open_checkpoint

pytestmark = pytest.mark.django_db


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.fixture
def log():
    for i in range(37):
        mesh.publish("order.paid", {"n": i})
    return checkpoint_sign(force=True)


def test_an_outsider_rebuilds_the_tree_and_checks_the_checkpoint(client, log):
    node = client.get("/api/mesh/node").json()
    note = client.get("/api/mesh/checkpoint")
    assert note.headers["Content-Type"].startswith("text/plain")
    checkpoint = open_checkpoint(note.content.decode(), Verifier.from_key(node["verifier_key"]))
    assert checkpoint.size == 37 == node["log_size"]

    entries = client.get("/api/mesh/entries?start=0&limit=1000").json()["entries"]
    tree = merkle.MemoryTree(_b64(e["entry"]) for e in entries)
    assert merkle.root(tree.size, tree) == checkpoint.root_hash

    proof = client.get("/api/mesh/proof/inclusion?index=11&size=37").json()
    merkle.verify_inclusion(
        merkle.leaf_hash(_b64(entries[11]["entry"])), 11, 37, [_b64(h) for h in proof["hashes"]], checkpoint.root_hash
    )


def test_consistency_proofs_link_old_and_new_checkpoints(client, log):
    old_root = bytes(log.root_hash)
    for i in range(20):
        mesh.publish("order.paid", {"n": 100 + i})
    new = checkpoint_sign(force=True)
    proof = client.get(f"/api/mesh/proof/consistency?old=37&new={new.size}").json()
    merkle.verify_consistency(37, new.size, old_root, bytes(new.root_hash), [_b64(h) for h in proof["hashes"]])


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/mesh/proof/inclusion?index=40&size=37", "bad_index"),
        ("/api/mesh/proof/inclusion?index=0&size=99", "bad_size"),
        ("/api/mesh/proof/consistency?old=38&new=37", "bad_size"),
        ("/api/mesh/entries?start=0&limit=5000", "bad_range"),
        ("/api/mesh/proof/inclusion?index=x&size=37", "validation_error"),
    ],
)
def test_bad_proof_requests_are_422_with_a_reason(client, log, url, code):
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_no_checkpoint_is_a_404(client):
    response = client.get("/api/mesh/checkpoint")
    assert response.status_code == 404
    assert response.json()["code"] == "no_checkpoint"


def test_checkpoints_follow_a_cadence_not_every_append(settings, log):
    settings.MESH_CHECKPOINT_INTERVAL_S = 3600
    mesh.publish("order.paid", {"n": "late"})
    assert checkpoint_sign() is None  # one entry behind and signed moments ago: not due
    settings.MESH_CHECKPOINT_EVERY = 1
    assert checkpoint_sign().size == 38


def test_it_refuses_to_sign_a_tree_inconsistent_with_the_last_checkpoint(log, tamper):
    mesh.publish("order.paid", {"n": "next"})
    # The subtree over leaves 0..31 feeds both the new root and the consistency proof.
    assert tamper(TreeNode.objects.filter(level=5, index=0), hash=b"\x00" * 32) == 1
    with pytest.raises(LogInconsistent, match="not consistent with the signed checkpoint at size 37"):
        checkpoint_sign(force=True)


def test_events_need_the_mesh_scope_and_page(client, log):
    from dreamnet.apikeys import apikey_create

    assert client.get("/api/mesh/events").status_code == 401
    _key, raw = apikey_create(name="n8n", scopes=["mesh"])
    page = client.get("/api/mesh/events?limit=10", headers={"X-DREAMNET-KEY": raw}).json()
    assert [e["seq"] for e in page["events"]] == list(range(10))
    assert page["next_after"] == 9
    rest = client.get("/api/mesh/events?after=30&limit=10", headers={"X-DREAMNET-KEY": raw}).json()
    assert [e["seq"] for e in rest["events"]] == list(range(31, 37))
    assert rest["next_after"] is None
