"""The witness endpoint's service (c2sp.org/tlog-witness): cosign checkpoints peers push to this node."""

from __future__ import annotations

import time

from django.db import transaction

import mesh.merkle as merkle
from mesh.identity import node_identity
from mesh.models import Peer
from mesh.note import Checkpoint as CheckpointBody
from mesh.note import NoteError, Verifier, parse_note, verify_note
from mesh.peers.services.common import (
    MAX_PUSH_BYTES,
    Direction,
    PeerError,
    Result,
    State,
    b64,
)
from mesh.peers.services.heartbeats import Outcome, fork_outcome, record_outcome
from mesh.peers.witness import (
    WitnessRequestError,
    cosign,
    parse_add_checkpoint,
)


def witness_add_checkpoint(*, body: bytes) -> str:
    """Check a checkpoint a peer pushed (c2sp.org/tlog-witness add-checkpoint) and return our cosignature line.

    The peer row is locked from the old-size check until its new size is stored, so two pushes cannot roll the
    size back. Raises PeerError with the spec's status: 400 malformed or ``old`` above the size, 404 unknown
    origin, 403 no valid signature by the pinned key (or the peer is quarantined), 409 with ``size`` when
    ``old`` is not the size last seen or when the same size comes with another root (a fork: quarantined), 422
    when the consistency proof fails (recorded, and a pull heartbeat is queued to confirm with the peer itself).
    """
    if len(body) > MAX_PUSH_BYTES:
        raise PeerError(f"The request body is over {MAX_PUSH_BYTES} bytes.", code="too_large", status=400)
    try:
        request = parse_add_checkpoint(body)
        text, _signatures = parse_note(request.note)
        checkpoint = CheckpointBody.parse(text)
    except (WitnessRequestError, NoteError) as exc:
        raise PeerError(f"Malformed add-checkpoint request: {exc}.", code="malformed", status=400) from exc
    if request.old > checkpoint.size:
        raise PeerError(f"old {request.old} is above the checkpoint size {checkpoint.size}.", code="old_too_large",
                        status=400)  # fmt: skip
    peer = Peer.objects.filter(origin=checkpoint.origin).first()
    if peer is None:
        raise PeerError(f"This node does not witness the log {checkpoint.origin!r}; its operator has to register it.",
                        code="unknown_log", status=404)  # fmt: skip
    try:
        verify_note(request.note, Verifier.from_key(peer.verifier_key))
    except NoteError as exc:
        raise PeerError(f"The checkpoint is not signed by the pinned key: {exc}.", code="bad_signature",
                        status=403) from exc  # fmt: skip
    size, root = checkpoint.size, checkpoint.root_hash
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(pk=peer.pk)
        if locked.state == State.QUARANTINED:
            raise PeerError(f"{locked.origin} is quarantined here; an operator has to lift it.",
                            code="peer_quarantined", status=403)  # fmt: skip
        seen_size, seen_root, seen_note = locked.size, bytes(locked.root_hash), locked.checkpoint_note
        outcome = None
        if request.old != seen_size:
            record_outcome(locked, Outcome(Result.CONFLICT, size=size, detail=f"pushed old {request.old}, last seen size is "
                                    f"{seen_size}"), direction=Direction.PUSH)  # fmt: skip
            refusal = PeerError(f"old {request.old} is not the size last seen, {seen_size}.", code="old_mismatch",
                                status=409, size=seen_size)  # fmt: skip
        elif size == seen_size and seen_size > 0 and root != seen_root:
            outcome = fork_outcome("same_size_different_root", f"the peer pushed a second tree of size {size}",
                            ours=(seen_size, seen_root, seen_note), theirs=(size, root, request.note))  # fmt: skip
            refusal = PeerError(f"A different tree of size {size} was seen before: this is a fork.", code="fork",
                                status=409, size=seen_size)  # fmt: skip
        else:
            old_root = seen_root if request.old else merkle.EMPTY_ROOT
            try:
                merkle.verify_consistency(request.old, size, old_root, root, request.proof)
            except merkle.ProofError as exc:
                evidence = {
                    "kind": "pushed_proof_failed",
                    "ours": {"size": seen_size, "note": seen_note},
                    "theirs": {"size": size, "note": request.note},
                    "proof": {"old": request.old, "new": size, "hashes": [b64(h) for h in request.proof]},
                }
                record_outcome(locked, Outcome(Result.BAD_PROOF, size=size, detail=str(exc), evidence=evidence),
                        direction=Direction.PUSH)  # fmt: skip
                transaction.on_commit(lambda: _queue_heartbeat(locked.pk))
                refusal = PeerError(f"The consistency proof from {request.old} to {size} does not verify: {exc}.",
                                    code="bad_proof", status=422)  # fmt: skip
            else:
                outcome = Outcome(Result.OK, detail=f"pushed checkpoint at size {size}", size=size,
                                  checkpoint=checkpoint, note=request.note)  # fmt: skip
                refusal = None
        if outcome is not None:
            record_outcome(locked, outcome, direction=Direction.PUSH)
    if refusal is not None:
        raise refusal
    identity = node_identity()
    return cosign(text, name=identity.origin, signing_key=identity.signing_key, timestamp=int(time.time()))


def _queue_heartbeat(peer_id: int) -> None:
    from django_q.tasks import async_task

    async_task("mesh.tasks.peer_heartbeat_task", peer_id, group="peers")
