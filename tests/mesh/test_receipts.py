"""Receipts: signed by the node key, sealed in the log, served with an inclusion-proof bundle."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

import nacl.signing
import pytest
from django.utils import timezone

from dreamnet.apikeys import apikey_create
from mesh import receipt_issue
from mesh.entries import canonical_json
from mesh.log import checkpoint_sign
from mesh.note import Verifier
from mesh.proofbundle import verify_bundle
from mesh.services import MeshError

pytestmark = pytest.mark.django_db


def _issue(**overrides):
    finished = timezone.now()
    fields = {
        "operation": "mission.run",
        "subject": "mission:42",
        "inputs": {"goal": "summarise spot gold"},
        "outputs": {"words": 120},
        "started": finished - timedelta(seconds=3),
        "finished": finished,
        "status": "succeeded",
        "cost": Decimal("0.0123"),
    } | overrides
    return receipt_issue(**fields)


def test_a_receipt_is_signed_sealed_and_provable(client):
    receipt = _issue()
    checkpoint_sign(force=True)
    _key, raw = apikey_create(name="auditor", scopes=["mesh"])
    body = client.get(f"/api/mesh/receipts/{receipt.log_index}", headers={"X-DREAMNET-KEY": raw}).json()
    assert body["body"]["cost_usd"] == "0.012300"
    verifier = Verifier.from_key(body["verifier_key"])
    nacl.signing.VerifyKey(verifier.public_key).verify(
        canonical_json(body["body"]), base64.b64decode(body["signature"])
    )
    proven = verify_bundle(body["proof_bundle"], body["verifier_key"])
    assert proven.index == receipt.log_index


def test_the_proof_bundle_is_null_until_a_checkpoint_covers_it(client):
    receipt = _issue()
    _key, raw = apikey_create(name="auditor", scopes=["mesh"])
    body = client.get(f"/api/mesh/receipts/{receipt.log_index}", headers={"X-DREAMNET-KEY": raw}).json()
    assert body["proof_bundle"] is None


def test_receipts_need_the_mesh_scope(client):
    receipt = _issue()
    _key, raw = apikey_create(name="shop", scopes=["commerce"])
    assert client.get(f"/api/mesh/receipts/{receipt.log_index}", headers={"X-DREAMNET-KEY": raw}).status_code == 403
    _key, raw = apikey_create(name="auditor", scopes=["mesh"])
    assert client.get("/api/mesh/receipts/999", headers={"X-DREAMNET-KEY": raw}).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "done"}, "not one of"),
        ({"cost": Decimal("-1")}, "non-negative"),
        ({"cost": 0.5}, "non-negative Decimal"),
        ({"operation": ""}, "required"),
    ],
)
def test_bad_receipts_are_refused(overrides, message):
    with pytest.raises(MeshError, match=message):
        _issue(**overrides)


def test_a_receipt_cannot_finish_before_it_starts():
    now = timezone.now()
    with pytest.raises(MeshError, match="cannot finish before it starts"):
        _issue(started=now, finished=now - timedelta(seconds=1))
