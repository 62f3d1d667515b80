"""/api/mesh/receipts/: signed receipts with their inclusion proofs (``mesh`` scope)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Schema

from dreamnet.ninja import AUTH_ERRORS, ErrorOut, require_scope
from mesh.api.common import router
from mesh.identity import node_identity
from mesh.models import Receipt
from mesh.selectors import (
    inclusion_bundle,
)
from mesh.services import (
    receipt_body,
)


class ReceiptOut(Schema):
    index: int
    body: dict
    signature: str
    verifier_key: str
    inputs: dict
    outputs: dict
    proof_bundle: str | None


@router.get(
    "/receipts/{index}", response={200: ReceiptOut, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"),
    summary="A signed receipt with its inclusion proof",
)  # fmt: skip
def receipt(request: HttpRequest, index: int):
    """The receipt sealed at log `index`: the signed body, its Ed25519 signature (base64, over the body's canonical
    JSON), and a tlog-proof@v1 bundle once a checkpoint covers it (null until then, usually under a second)."""
    row = get_object_or_404(Receipt, log_index=index)
    bundle = inclusion_bundle(index)
    return {
        "index": row.log_index,
        "body": receipt_body(row),
        "signature": row.signature,
        "verifier_key": node_identity().verifier_key,
        "inputs": row.inputs,
        "outputs": row.outputs,
        "proof_bundle": bundle.text if bundle else None,
    }
