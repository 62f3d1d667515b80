"""Heartbeats: pull a peer's checkpoint and proof, push ours for a cosignature, and apply what was found.

Every observation is logged (``PeerHeartbeat``) and applied to the peer under its row lock; a state change is
recorded with its reason and published.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import mesh.merkle as merkle
from mesh.log import DatabaseNodes, latest_checkpoint
from mesh.models import Cosignature, Peer, PeerHeartbeat, PeerStateChange
from mesh.note import Checkpoint as CheckpointBody
from mesh.note import NoteError, Verifier, parse_note, strict_b64decode, verify_note
from mesh.peers import http
from mesh.peers.scoring import adjusted, next_state
from mesh.peers.services.common import (
    MAX_NOTE_BYTES,
    Direction,
    Result,
    State,
    b64,
    get,
    score_rules,
)
from mesh.peers.witness import (
    SIZE_CONTENT_TYPE,
    format_add_checkpoint,
    parse_size_body,
    verify_cosignature,
)
from mesh.services import MeshError, publish

logger = logging.getLogger(__name__)


# Observations and how they change a peer -----------------------------------------------------------------------


@dataclass
class Outcome:
    """What one heartbeat found; ``checkpoint`` and ``note`` are set when a verified checkpoint is to be adopted."""

    result: str
    detail: str = ""
    size: int | None = None
    checkpoint: CheckpointBody | None = None
    note: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    latency_ms: float | None = None


_REASONS = {
    Result.BAD_SIGNATURE: "a checkpoint that does not verify with the pinned key",
    Result.BAD_RESPONSE: "a malformed answer",
    Result.UNREACHABLE: "being unreachable",
}


def _affects_peer(direction: str, result: str) -> bool:
    """Return whether a heartbeat result changes the peer (score, state, size seen) or is only logged.

    Pushes are unauthenticated beyond the checkpoint signature, so anyone can replay one: only a verified
    checkpoint and a proven fork act on the peer. Of our own pushes, only a bad cosignature counts against it.
    """
    if direction == Direction.PULL:
        return True
    if direction == Direction.PUSH:
        return result in (Result.OK, Result.FORK)
    return result == Result.BAD_RESPONSE


def _apply(peer: Peer, outcome: Outcome, *, direction: str, now: datetime) -> None:
    rules = score_rules()
    result = outcome.result
    delta, verified = 0.0, False
    if result == Result.OK:
        delta, verified = rules.reward, True
        if outcome.checkpoint is not None:
            peer.size, peer.root_hash = outcome.checkpoint.size, outcome.checkpoint.root_hash
            peer.checkpoint_note = outcome.note
        peer.last_seen_at = now
    elif result == Result.STALE:
        peer.last_seen_at = now
    elif result == Result.BAD_SIGNATURE:
        delta = -float(settings.MESH_PEER_PENALTY_BAD_SIGNATURE)
    elif result == Result.BAD_RESPONSE:
        delta = -float(settings.MESH_PEER_PENALTY_BAD_RESPONSE)
    if direction != Direction.COSIGN:
        if result == Result.UNREACHABLE:
            if peer.unreachable_since is None:
                peer.unreachable_since, peer.unreachable_periods_charged = now, 0
            periods = int((now - peer.unreachable_since).total_seconds() // settings.MESH_PEER_UNREACHABLE_PERIOD_S)
            delta -= (periods - peer.unreachable_periods_charged) * float(settings.MESH_PEER_PENALTY_UNREACHABLE)
            peer.unreachable_periods_charged = periods
        else:
            peer.unreachable_since, peer.unreachable_periods_charged = None, 0
        peer.last_result = result
        peer.last_error = "" if result in (Result.OK, Result.STALE) else outcome.detail[:2000]
    if direction == Direction.PULL:
        peer.last_attempt_at = now
    if result == Result.FORK:
        peer.score, peer.score_at, peer.state = 0.0, now, State.QUARANTINED
    else:
        elapsed = (now - peer.score_at).total_seconds()
        peer.score, peer.score_at = adjusted(peer.score, elapsed, delta, rules), now
        peer.state = next_state(peer.state, peer.score, verified=verified, rules=rules)


def record_outcome(peer: Peer, outcome: Outcome, *, direction: str, expected: tuple[int, bytes] | None = None) -> bool:
    """Log a heartbeat and apply it to the peer under its row lock; return False if it was superseded.

    ``expected`` is the (size, root) a pull was verified against: if a concurrent heartbeat or push moved the
    peer on meanwhile, nothing is written and False is returned so the caller can look again.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(pk=peer.pk)
        if expected is not None and (locked.size, bytes(locked.root_hash)) != expected:
            return False
        before = locked.state
        if _affects_peer(direction, outcome.result):
            _apply(locked, outcome, direction=direction, now=now)
            locked.save()
        PeerHeartbeat.objects.create(
            peer=locked, direction=direction, result=outcome.result, size=outcome.size, detail=outcome.detail[:2000],
            evidence=outcome.evidence, latency_ms=outcome.latency_ms, created_at=now,
        )  # fmt: skip
        if locked.state != before:
            _state_changed(locked, before, outcome, now=now)
    return True


def _state_changed(peer: Peer, before: str, outcome: Outcome, *, now: datetime) -> None:
    if outcome.result == Result.FORK:
        reason = f"Fork detected: {outcome.detail}"
    elif peer.state == State.QUARANTINED:
        why = _REASONS.get(outcome.result, outcome.result)
        reason = (f"Score {peer.score:.1f} fell below the quarantine threshold {settings.MESH_PEER_QUARANTINE_BELOW} "
                  f"after {why}: {outcome.detail}")  # fmt: skip
    elif peer.state == State.SUSPECT:
        why = _REASONS.get(outcome.result, outcome.result)
        reason = (f"Score {peer.score:.1f} fell below the suspect threshold {settings.MESH_PEER_SUSPECT_BELOW} "
                  f"after {why}: {outcome.detail}")  # fmt: skip
    else:
        reason = f"Trusted again: a verified heartbeat at size {outcome.size} with the score at {peer.score:.1f}."
    PeerStateChange.objects.create(
        peer=peer, from_state=before, to_state=peer.state, score=peer.score, reason=reason,
        evidence=outcome.evidence, created_at=now,
    )  # fmt: skip
    publish("peer.state_changed", {"peer": peer.pk, "origin": peer.origin, "from": before, "to": peer.state,
                                   "score": round(peer.score, 2), "reason": reason})  # fmt: skip
    if outcome.result == Result.FORK:
        alert = {"peer": peer.pk, "origin": peer.origin, "url": peer.url, "severity": "critical",
                 "reason": outcome.detail, "evidence": outcome.evidence}  # fmt: skip
        try:
            publish("peer.fork_detected", alert)
        except MeshError:  # the evidence is above DREAMNET_MESH_MAX_PAYLOAD_BYTES: it stays on the state change
            alert["evidence"] = {"kind": outcome.evidence.get("kind"), "stored": "on the peer's state change"}
            publish("peer.fork_detected", alert)


def fork_outcome(kind: str, detail: str, *, ours: tuple[int, bytes, str], theirs: tuple[int, bytes, str],
          proof: dict[str, Any] | None = None) -> Outcome:  # fmt: skip
    evidence = {
        "kind": kind,
        "ours": {"size": ours[0], "root": b64(ours[1]), "note": ours[2]},
        "theirs": {"size": theirs[0], "root": b64(theirs[1]), "note": theirs[2]},
        "proof": proof,
    }
    return Outcome(Result.FORK, detail=detail, size=theirs[0], evidence=evidence)


# Heartbeat: pull -------------------------------------------------------------------------------------------------


def _fetch_proof(peer: Peer, old: int, new: int) -> tuple[list[bytes] | None, Outcome | None]:
    """Return the peer's consistency proof from ``old`` to ``new``, or the Outcome that explains why not."""
    path = f"/api/mesh/proof/consistency?old={old}&new={new}"
    try:
        response = get(peer.url, path)
    except http.Unreachable as exc:
        return None, Outcome(Result.UNREACHABLE, detail=str(exc), size=new)
    if response.status >= 500:
        return None, Outcome(Result.UNREACHABLE, detail=f"GET {path} answered HTTP {response.status}", size=new)
    if response.status != 200:
        detail = f"GET {path} answered HTTP {response.status}: {response.body[:300].decode(errors='replace')}"
        return None, Outcome(Result.BAD_RESPONSE, detail=detail, size=new, evidence={"status": response.status})
    try:
        data = json.loads(response.body)
        hashes = data["hashes"]
        if data.get("old") != old or data.get("new") != new or not isinstance(hashes, list) or len(hashes) > 64:
            raise ValueError("the proof names other sizes or holds too many hashes")
        proof = [strict_b64decode(h) if isinstance(h, str) else None for h in hashes]
        if any(h is None or len(h) != 32 for h in proof):
            raise ValueError("a proof element is not base64 of a 32-byte hash")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, Outcome(Result.BAD_RESPONSE, detail=f"GET {path}: malformed proof ({exc})", size=new)
    return proof, None


def _observe(peer: Peer, known: tuple[int, bytes, str]) -> Outcome:
    """Fetch and verify the peer's checkpoint against ``known`` (size, root, note); never raises for the peer."""
    known_size, known_root, known_note = known
    try:
        response = get(peer.url, "/api/mesh/checkpoint")
    except http.Unreachable as exc:
        return Outcome(Result.UNREACHABLE, detail=str(exc))
    latency = response.elapsed_ms
    if response.status >= 500:
        return Outcome(Result.UNREACHABLE, detail=f"GET /api/mesh/checkpoint answered HTTP {response.status}")
    if response.status == 404:
        try:
            if json.loads(response.body).get("code") == "no_checkpoint":
                return Outcome(Result.EMPTY, detail="the peer has not signed a checkpoint yet", latency_ms=latency)
        except (ValueError, AttributeError):
            pass
    if response.status != 200:
        return Outcome(Result.BAD_RESPONSE, detail=f"GET /api/mesh/checkpoint answered HTTP {response.status}",
                       latency_ms=latency)  # fmt: skip
    if len(response.body) > MAX_NOTE_BYTES:
        return Outcome(Result.BAD_RESPONSE, detail=f"the checkpoint is over {MAX_NOTE_BYTES} bytes", latency_ms=latency)
    try:
        note = response.body.decode()
        text, _signatures = parse_note(note)
    except (UnicodeDecodeError, NoteError) as exc:
        return Outcome(Result.BAD_RESPONSE, detail=f"malformed checkpoint note: {exc}", latency_ms=latency,
                       evidence={"body": response.body[:MAX_NOTE_BYTES].decode(errors="replace")})  # fmt: skip
    try:
        verify_note(note, Verifier.from_key(peer.verifier_key))
    except NoteError as exc:
        return Outcome(Result.BAD_SIGNATURE, detail=str(exc), latency_ms=latency,
                       evidence={"kind": "bad_signature", "note": note, "error": str(exc)})  # fmt: skip
    try:
        checkpoint = CheckpointBody.parse(text)
    except NoteError as exc:
        return Outcome(Result.BAD_RESPONSE, detail=f"malformed checkpoint: {exc}", latency_ms=latency,
                       evidence={"note": note})  # fmt: skip
    if checkpoint.origin != peer.origin:
        return Outcome(Result.BAD_RESPONSE, detail=f"the checkpoint's origin is {checkpoint.origin!r}, not "
                       f"{peer.origin!r}", latency_ms=latency, evidence={"note": note})  # fmt: skip
    size, root = checkpoint.size, checkpoint.root_hash
    ok = Outcome(Result.OK, detail=f"verified checkpoint at size {size}", size=size, checkpoint=checkpoint,
                 note=note, latency_ms=latency)  # fmt: skip
    if known_size == 0:
        return ok
    ours, theirs = (known_size, known_root, known_note), (size, root, note)
    if size == known_size:
        if root == known_root:
            return ok
        return fork_outcome("same_size_different_root",
                     f"the peer signed two different trees of size {size}", ours=ours, theirs=theirs)  # fmt: skip
    old, new = (known_size, size) if size > known_size else (size, known_size)
    proof, failure = _fetch_proof(peer, old, new)
    proof_evidence = {"old": old, "new": new, "hashes": [b64(h) for h in proof or []]}
    if failure is not None:
        if size < known_size and failure.result == Result.BAD_RESPONSE:
            # The peer signed a tree smaller than one it signed before and cannot prove it is a prefix of it.
            return fork_outcome("rollback", f"the peer now signs size {size} after size {known_size} and cannot prove "
                         f"consistency between them ({failure.detail})", ours=ours, theirs=theirs)  # fmt: skip
        failure.latency_ms = latency
        return failure
    try:
        if size > known_size:
            merkle.verify_consistency(known_size, size, known_root, root, proof)
        else:
            merkle.verify_consistency(size, known_size, root, known_root, proof)
    except merkle.ProofError as exc:
        return fork_outcome("consistency_proof_failed", f"the consistency proof from size {old} to {new} failed: {exc}",
                     ours=ours, theirs=theirs, proof=proof_evidence)  # fmt: skip
    if size < known_size:
        return Outcome(Result.STALE, detail=f"served checkpoint {size}, older than {known_size} seen (consistent)",
                       size=size, latency_ms=latency)  # fmt: skip
    ok.detail = f"verified checkpoint at size {size}, consistent with size {known_size}"
    return ok


def peer_heartbeat(*, peer: Peer) -> PeerHeartbeat:
    """Fetch the peer's checkpoint and a consistency proof from the size last verified; record the result.

    Penalises bad signatures and malformed answers, charges unreachable periods, quarantines on a fork with an
    alert, rewards a verified checkpoint and adopts it as the new size seen. Returns the heartbeat row.
    """
    for _ in range(3):
        peer.refresh_from_db()
        known = (peer.size, bytes(peer.root_hash), peer.checkpoint_note)
        outcome = _observe(peer, known)
        if record_outcome(peer, outcome, direction=Direction.PULL, expected=known[:2]):
            return peer.heartbeats.filter(direction=Direction.PULL).first()
    outcome = Outcome(Result.STALE, detail="the peer's state kept moving while this heartbeat verified it")
    record_outcome(peer, outcome, direction=Direction.PULL)
    return peer.heartbeats.filter(direction=Direction.PULL).first()


# Heartbeat: push ours for a cosignature -------------------------------------------------------------------------


def peer_push(*, peer: Peer) -> PeerHeartbeat | None:
    """Push this node's latest checkpoint to the peer's witness endpoint and keep the cosignature it returns.

    Uses the size the peer last cosigned as ``old`` and follows one 409 to the size the peer reports. Returns
    None when this node has no checkpoint yet.
    """
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return None
    peer.refresh_from_db()
    size, root, note = checkpoint.size, bytes(checkpoint.root_hash), checkpoint.note
    old = peer.witness_size if peer.witness_size <= size else 0
    url = f"{peer.url}/api/mesh/witness/add-checkpoint"
    outcome = None
    for _ in range(2):
        proof = merkle.consistency_proof(old, size, DatabaseNodes()) if 0 < old < size else []
        body = format_add_checkpoint(old=old, proof=proof, note=note)
        try:
            response = http.request("POST", url, body=body, timeout=settings.MESH_PEER_TIMEOUT_S,
                                    headers={"Content-Type": "text/plain; charset=utf-8"})  # fmt: skip
        except http.Unreachable as exc:
            outcome = Outcome(Result.UNREACHABLE, detail=str(exc), size=size)
            break
        if response.status == 409:
            seen = parse_size_body(response.body) if response.content_type == SIZE_CONTENT_TYPE else None
            if seen is not None and seen <= size and seen != old:
                old = seen
                continue
            detail = (
                f"the peer holds a checkpoint of this log at size {seen} that ours at size {size} does not extend"
                if seen is not None
                else f"HTTP 409: {response.body[:300].decode(errors='replace')}"
            )
            if seen is not None:
                logger.critical("Peer %s refuses our checkpoint %s: %s", peer.origin, size, detail)
            outcome = Outcome(Result.CONFLICT, detail=detail, size=size)  # fmt: skip
            break
        if response.status != 200:
            result = Result.BAD_PROOF if response.status == 422 else Result.REFUSED
            outcome = Outcome(result, size=size, detail=f"HTTP {response.status}: "
                              f"{response.body[:300].decode(errors='replace')}")  # fmt: skip
            if response.status == 422:
                logger.critical("Peer %s says our consistency proof %s→%s fails", peer.origin, old, size)
            break
        outcome = _keep_cosignature(peer, size=size, root=root, note=note, body=response.body)
        outcome.latency_ms = response.elapsed_ms
        break
    if outcome is None:
        outcome = Outcome(Result.CONFLICT, size=size, detail="the peer reported a different size seen twice in a row")
    record_outcome(peer, outcome, direction=Direction.COSIGN)
    return peer.heartbeats.filter(direction=Direction.COSIGN).first()


def _keep_cosignature(peer: Peer, *, size: int, root: bytes, note: str, body: bytes) -> Outcome:
    try:
        checkpoint_text, signatures = parse_note(note + body.decode())
        verifier = Verifier.from_key(peer.verifier_key)
        found = verify_cosignature(checkpoint_text, signatures, name=verifier.name, public_key=verifier.public_key)
    except (UnicodeDecodeError, NoteError) as exc:
        return Outcome(Result.BAD_RESPONSE, detail=f"the cosignature does not verify: {exc}", size=size,
                       evidence={"response": body[:2000].decode(errors="replace")})  # fmt: skip
    if found is None:
        return Outcome(Result.BAD_RESPONSE, detail="the answer holds no cosignature by the peer's key", size=size,
                       evidence={"response": body[:2000].decode(errors="replace")})  # fmt: skip
    signature, timestamp = found
    line = f"\u2014 {signature.name} {b64(signature.key_id + signature.signature)}\n"
    Cosignature.objects.update_or_create(
        peer=peer, size=size, defaults={"root_hash": root, "line": line, "timestamp": timestamp}
    )
    Peer.objects.filter(pk=peer.pk).update(witness_size=size)
    return Outcome(Result.OK, detail=f"cosigned our checkpoint at size {size}", size=size)


def cosigned_checkpoint() -> str | None:
    """Return the latest checkpoint note with every cosignature peers returned for it, or None before one."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return None
    lines = Cosignature.objects.filter(size=checkpoint.size, root_hash=checkpoint.root_hash).order_by("peer__origin")
    return checkpoint.note + "".join(c.line for c in lines)


# Rounds ----------------------------------------------------------------------------------------------------------


def peers_heartbeat_round() -> int:
    """Heartbeat every peer that is not quarantined (pull, then push ours); return how many were contacted.

    One peer's failure is logged and never stops the round.
    """
    count = 0
    for peer in Peer.objects.exclude(state=State.QUARANTINED).order_by("pk"):
        try:
            if peer_heartbeat(peer=peer).result != Result.FORK:
                peer_push(peer=peer)  # a peer this heartbeat just quarantined gets nothing more from us
        except Exception:
            logger.exception("Heartbeat with peer %s failed", peer.origin)
        count += 1
    return count


def peers_history_prune() -> int:
    """Delete heartbeat rows older than DREAMNET_MESH_PEER_HISTORY_H hours; state changes are kept."""
    cutoff = timezone.now() - timedelta(hours=settings.MESH_PEER_HISTORY_H)
    deleted, _ = PeerHeartbeat.objects.filter(created_at__lt=cutoff).delete()
    return deleted
