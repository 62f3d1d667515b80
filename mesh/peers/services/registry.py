"""Registering peers: discover a node's key, pin it, lift a quarantine, forget a peer.

``by`` is the operator (a ``User``) or, from the API, the key's label ``apikey:<prefix>``; either is the event's actor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from mesh.identity import node_identity
from mesh.models import Peer, PeerStateChange
from mesh.note import NoteError, Verifier
from mesh.peers import http
from mesh.peers.services.common import (
    PeerError,
    State,
    b64,
    check_url,
    get,
    verifier_from_key,
)
from mesh.services import publish


@dataclass(frozen=True)
class NodeInfo:
    """What a node says about itself at /api/mesh/node: its origin, verifier key and log size."""

    url: str
    origin: str
    verifier_key: str
    key_id: str
    log_size: int
    checkpoint_size: int | None


def peer_discover(*, url: str) -> NodeInfo:
    """Ask the node at ``url`` for its identity (nothing is stored): the first step of trust on first use.

    Raises PeerError ``invalid_url``, ``peer_unreachable`` or ``peer_bad_response``.
    """
    url = check_url(url)
    try:
        response = get(url, "/api/mesh/node")
    except http.Unreachable as exc:
        raise PeerError(f"Could not reach {url}: {exc}.", code="peer_unreachable") from exc
    if response.status != 200:
        raise PeerError(
            f"{url}/api/mesh/node answered HTTP {response.status}; is this the base URL of a DreamNet node?",
            code="peer_bad_response",
        )
    try:
        data = json.loads(response.body)
        origin, vkey = data["origin"], data["verifier_key"]
        log_size, checkpoint_size = int(data["log_size"]), data.get("checkpoint_size")
        if not isinstance(origin, str) or not isinstance(vkey, str):
            raise TypeError("origin and verifier_key must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        raise PeerError(
            f"{url}/api/mesh/node did not answer a DreamNet node description ({exc}).", code="peer_bad_response"
        ) from exc
    try:
        verifier = Verifier.from_key(vkey)
    except NoteError as exc:
        raise PeerError(f"{url} presents an invalid verifier key: {exc}.", code="peer_bad_response") from exc
    if verifier.name != origin:
        raise PeerError(
            f"{url} names its log {origin!r} but its key is for {verifier.name!r}.", code="peer_bad_response"
        )
    return NodeInfo(
        url=url,
        origin=origin,
        verifier_key=vkey,
        key_id=verifier.key_id.hex(),
        log_size=log_size,
        checkpoint_size=checkpoint_size if isinstance(checkpoint_size, int) else None,
    )


def peer_register(
    *, url: str, verifier_key: str, by: User | str | None = None, tofu: bool = False, label: str = ""
) -> Peer:
    """Register the node at ``url`` and pin ``verifier_key``; the node must present exactly that key.

    ``tofu`` records that the key came from :func:`peer_discover` and an operator confirmed it, rather than
    from the peer's operator out of band; ``label`` is the operator's own name for it (at most 100 characters).
    Writes the Peer and its first state change; publishes ``peer.registered``. Raises PeerError: ``invalid_url``,
    ``invalid_key``, ``self_peer``, ``peer_exists`` (409), ``peer_unreachable``, ``peer_bad_response``,
    ``key_mismatch``, ``label_too_long``.
    """
    url = check_url(url)
    label = label.strip()
    if len(label) > 100:
        raise PeerError("A peer's label is at most 100 characters.", code="label_too_long")
    verifier = verifier_from_key(verifier_key)
    ours = node_identity()
    if verifier.public_key == ours.signer.public_key or verifier.name == ours.origin:
        raise PeerError("That is this node's own key; a node cannot be its own peer.", code="self_peer")
    existing = Peer.objects.filter(url=url).first() or Peer.objects.filter(origin=verifier.name).first()
    if existing is not None:
        raise PeerError(f"{existing.origin} at {existing.url} is already a peer.", code="peer_exists", status=409)
    info = peer_discover(url=url)
    if Verifier.from_key(info.verifier_key) != verifier:
        raise PeerError(
            f"{url} presents the key {info.origin}+{info.key_id}, not {verifier.label} as given; "
            "check the URL and the key with the peer's operator.",
            code="key_mismatch",
        )
    now = timezone.now()
    pinned_via = Peer.PinnedVia.TOFU if tofu else Peer.PinnedVia.OPERATOR
    try:
        with transaction.atomic():
            peer = Peer.objects.create(
                url=url,
                origin=verifier.name,
                label=label,
                verifier_key=verifier_key.strip(),
                pinned_via=pinned_via,
                state=State.TRUSTED,
                score=float(settings.MESH_PEER_SCORE_NEUTRAL),
                score_at=now,
                created_by=by if getattr(by, "pk", None) else None,
            )
            how = "trusted on first use after the operator confirmed it" if tofu else "given by the operator"
            PeerStateChange.objects.create(
                peer=peer, from_state="", to_state=State.TRUSTED, score=peer.score, created_at=now,
                reason=f"Registered; key {verifier.label} pinned ({how}).", by=peer.created_by,
            )  # fmt: skip
            publish("peer.registered", {"peer": peer.pk, "origin": peer.origin, "url": url, "pinned_via": pinned_via},
                    actor=by)  # fmt: skip
    except IntegrityError as exc:
        raise PeerError(f"{verifier.name} at {url} is already a peer.", code="peer_exists", status=409) from exc
    return peer


def peer_remove(*, peer: Peer, by: User | str | None = None) -> None:
    """Forget a peer with its history and cosignatures; publishes ``peer.removed``."""
    with transaction.atomic():
        publish("peer.removed", {"peer": peer.pk, "origin": peer.origin, "url": peer.url}, actor=by)
        peer.delete()


def peer_quarantine_lift(*, peer: Peer, by: User | str | None, note: str, forget_history: bool = False) -> Peer:
    """Lift a quarantine: the peer is suspect at a neutral score until its next verified heartbeat.

    ``note`` (required) says why. With ``forget_history`` the checkpoint this node held is dropped, so the
    peer's current log is accepted as first seen (after the operator has accepted its rewritten history).
    Locks the peer row; writes a state change; publishes ``peer.quarantine_lifted``.
    """
    note = (note or "").strip()
    if not note:
        raise PeerError("Say why the quarantine is lifted: a note is required.", code="note_required")
    if len(note) > 2000:
        raise PeerError("The note is at most 2000 characters.", code="note_too_long")
    now = timezone.now()
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(pk=peer.pk)
        if locked.state != State.QUARANTINED:
            raise PeerError(f"{locked.origin} is {locked.state}, not quarantined.", code="not_quarantined", status=409)
        locked.state = State.SUSPECT
        locked.score, locked.score_at = float(settings.MESH_PEER_SCORE_NEUTRAL), now
        locked.unreachable_since, locked.unreachable_periods_charged = None, 0
        reason = "Quarantine lifted by an operator; suspect until the next verified heartbeat."
        evidence: dict[str, Any] = {}
        if forget_history:
            evidence["forgotten"] = {"size": locked.size, "root": b64(bytes(locked.root_hash)),
                                     "note": locked.checkpoint_note}  # fmt: skip
            locked.size, locked.root_hash, locked.checkpoint_note = 0, b"", ""
            reason += " The checkpoint held was forgotten: the peer's current log will be accepted as first seen."
        locked.save()
        PeerStateChange.objects.create(
            peer=locked, from_state=State.QUARANTINED, to_state=State.SUSPECT, score=locked.score, reason=reason,
            evidence=evidence, by=by if getattr(by, "pk", None) else None, note=note, created_at=now,
        )  # fmt: skip
        publish("peer.quarantine_lifted", {"peer": locked.pk, "origin": locked.origin, "note": note,
                                           "forget_history": forget_history}, actor=by)  # fmt: skip
    return locked
