"""/api/mesh/peers/ (``mesh`` scope) and the public witness endpoint (c2sp.org/tlog-witness)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Schema, Status
from ninja.throttling import AnonRateThrottle

from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh.api.common import b64, router
from mesh.identity import node_identity
from mesh.models import Peer
from mesh.peers import services as peers
from mesh.peers.witness import SIZE_CONTENT_TYPE, cosigner_vkey

PEER_ERRORS = {**AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class PeerOut(Schema):
    id: int
    url: str
    origin: str
    verifier_key: str
    pinned_via: str
    state: str
    score: float
    size: int
    root_hash: str
    witness_size: int
    last_seen_at: datetime | None
    last_attempt_at: datetime | None
    last_result: str
    last_error: str
    unreachable_since: datetime | None
    created_at: datetime


class PeerChangeOut(Schema):
    from_state: str
    to_state: str
    score: float
    reason: str
    evidence: dict
    by: str | None
    note: str
    created_at: datetime


class HeartbeatOut(Schema):
    direction: str
    result: str
    size: int | None
    detail: str
    evidence: dict
    latency_ms: float | None
    created_at: datetime


class PeerDetailOut(PeerOut):
    checkpoint_note: str
    changes: list[PeerChangeOut]
    heartbeats: list[HeartbeatOut]


def _peer_out(peer: Peer) -> dict:
    return {
        "id": peer.pk, "url": peer.url, "origin": peer.origin, "verifier_key": peer.verifier_key,
        "pinned_via": peer.pinned_via, "state": peer.state, "score": round(peers.peer_score_now(peer), 2),
        "size": peer.size, "root_hash": b64(bytes(peer.root_hash)), "witness_size": peer.witness_size,
        "last_seen_at": peer.last_seen_at, "last_attempt_at": peer.last_attempt_at, "last_result": peer.last_result,
        "last_error": peer.last_error, "unreachable_since": peer.unreachable_since, "created_at": peer.created_at,
    }  # fmt: skip


def _change_out(change) -> dict:
    return {
        "from_state": change.from_state, "to_state": change.to_state, "score": round(change.score, 2),
        "reason": change.reason, "evidence": change.evidence, "by": change.by.get_username() if change.by else None,
        "note": change.note, "created_at": change.created_at,
    }  # fmt: skip


def _peer_detail(peer: Peer) -> dict:
    heartbeats = peer.heartbeats.values("direction", "result", "size", "detail", "evidence", "latency_ms", "created_at")
    return _peer_out(peer) | {
        "checkpoint_note": peer.checkpoint_note,
        "changes": [_change_out(c) for c in peer.changes.select_related("by")[:50]],
        "heartbeats": list(heartbeats[:20]),
    }


class NodeInfoOut(Schema):
    url: str
    origin: str
    verifier_key: str
    key_id: str
    log_size: int
    checkpoint_size: int | None


class DiscoverIn(Schema):
    url: str


class PeerIn(Schema):
    url: str
    verifier_key: str
    trust_on_first_use: bool = False


class LiftIn(Schema):
    note: str
    forget_history: bool = False


@router.get("/peers", response={200: list[PeerOut], **AUTH_ERRORS}, auth=require_scope("mesh"), summary="Peers")
def peer_list(request: HttpRequest):
    """Every registered peer with its state, score (decayed to now), the size last verified and the last result."""
    return [_peer_out(p) for p in Peer.objects.order_by("origin")]


@router.post(
    "/peers/discover", response={200: NodeInfoOut, **PEER_ERRORS}, auth=require_scope("mesh"),
    summary="Ask a node for its key (trust on first use, step 1)",
)  # fmt: skip
def peer_discover(request: HttpRequest, body: DiscoverIn):
    """Fetch the node's `/api/mesh/node` and return its origin and verifier key; nothing is stored. Show the key
    to an operator, and register with it (`trust_on_first_use: true`) only once they confirm it."""
    info = peers.peer_discover(url=body.url)
    return info.__dict__


@router.post("/peers", response={201: PeerOut, **PEER_ERRORS}, auth=require_scope("mesh"), summary="Register a peer")
def peer_register(request: HttpRequest, body: PeerIn):
    """Register the node at `url` and pin `verifier_key`; the node must present that key at `/api/mesh/node`.
    Set `trust_on_first_use` when the key came from `/peers/discover` and an operator confirmed it."""
    peer = peers.peer_register(url=body.url, verifier_key=body.verifier_key, tofu=body.trust_on_first_use,
                               by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    return Status(201, _peer_out(peer))


@router.get(
    "/peers/{peer_id}", response={200: PeerDetailOut, **PEER_ERRORS}, auth=require_scope("mesh"),
    summary="A peer with its state changes (reasons and evidence) and recent heartbeats",
)  # fmt: skip
def peer_detail(request: HttpRequest, peer_id: int):
    return _peer_detail(get_object_or_404(Peer, pk=peer_id))


@router.delete("/peers/{peer_id}", response={204: None, **PEER_ERRORS}, auth=require_scope("mesh"))
def peer_remove(request: HttpRequest, peer_id: int):
    """Forget the peer, its history and its cosignatures (to change its key, remove it and register it again)."""
    peers.peer_remove(peer=get_object_or_404(Peer, pk=peer_id), by=f"apikey:{request.api_key.prefix}")
    return Status(204, None)


@router.post(
    "/peers/{peer_id}/heartbeat", response={200: PeerDetailOut, **PEER_ERRORS}, auth=require_scope("mesh"),
    summary="Heartbeat a peer now",
)  # fmt: skip
def peer_heartbeat(request: HttpRequest, peer_id: int):
    """Fetch and verify the peer's checkpoint now, then push ours for its cosignature; return the peer."""
    peer = get_object_or_404(Peer, pk=peer_id)
    peers.peer_heartbeat(peer=peer)
    peers.peer_push(peer=peer)
    peer.refresh_from_db()
    return _peer_detail(peer)


@router.post(
    "/peers/{peer_id}/lift", response={200: PeerDetailOut, **PEER_ERRORS}, auth=require_scope("mesh"),
    summary="Lift a quarantine",
)  # fmt: skip
def peer_lift(request: HttpRequest, peer_id: int, body: LiftIn):
    """Lift the quarantine with a `note` saying why; the peer is suspect until its next verified heartbeat.
    `forget_history` also drops the checkpoint held, accepting the peer's current log as first seen."""
    peer = get_object_or_404(Peer, pk=peer_id)
    peer = peers.peer_quarantine_lift(peer=peer, by=f"apikey:{request.api_key.prefix}", note=body.note,
                                      forget_history=body.forget_history)  # fmt: skip
    return _peer_detail(peer)


# Witness (c2sp.org/tlog-witness): public, like the log ---------------------------------------------------------


class WitnessOut(Schema):
    origin: str
    verifier_key: str
    cosigner_key: str


@router.get("/witness", response=WitnessOut, summary="This node's witness name and cosigner key")
def witness(request: HttpRequest):
    """The cosigner key (`name+keyid+base64(0x04||pubkey)`, c2sp.org/tlog-cosignature) verifies this node's
    cosignatures; it is the node key under the log origin, so a peer derives it from the pinned verifier key."""
    identity = node_identity()
    return {"origin": identity.origin, "verifier_key": identity.verifier_key,
            "cosigner_key": cosigner_vkey(identity.origin, identity.signer.public_key)}  # fmt: skip


def _witness_throttle() -> list:
    return [AnonRateThrottle(settings.MESH_WITNESS_RATE)]


@router.post(
    "/witness/add-checkpoint",
    response={200: str, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: str, 422: ErrorOut, 429: ErrorOut},
    throttle=_witness_throttle(), summary="Submit a checkpoint for a cosignature (tlog-witness)",
    openapi_extra={"requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}},
)  # fmt: skip
def witness_add_checkpoint(request: HttpRequest):
    """Body: `old N`, the consistency proof lines (base64), an empty line, the signed checkpoint. 200: our
    cosignature line. 400 malformed or old above the size; 403 not signed by the pinned key or quarantined; 404 a
    log this node does not witness; 409 (`text/x.tlog.size`, the size last seen) when `old` is not that size,
    or the same size arrives with another root (a fork: the peer is quarantined); 422 when the proof fails."""
    try:
        line = peers.witness_add_checkpoint(body=request.body)
    except peers.PeerError as exc:
        if exc.status != 409:
            raise
        # tlog-witness answers a size conflict with the size last seen as text/x.tlog.size, not a JSON error.
        return HttpResponse(f"{exc.size}\n", status=409, content_type=SIZE_CONTENT_TYPE)
    return HttpResponse(line, content_type="text/plain; charset=utf-8")


@router.get(
    "/checkpoint/cosigned", response={200: str, 404: ErrorOut}, summary="Latest checkpoint with peers' cosignatures"
)
def checkpoint_cosigned(request: HttpRequest):
    """The latest signed checkpoint followed by the cosignature/v1 lines peers returned for it (`text/plain`)."""
    note = peers.cosigned_checkpoint()
    if note is None:
        raise ApiError(404, "no_checkpoint", "No checkpoint yet: the log is empty or the first one is being signed.")
    return HttpResponse(note, content_type="text/plain; charset=utf-8")
