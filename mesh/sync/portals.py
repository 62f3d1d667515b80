"""Portal and transfer writes: open, join, close; which peers may connect; the receipts of every transfer.

A portal key is ``dnportal1.<portal id>.<secret>.<opener key>`` (hex). The opener keeps the secret; the joiner
proves it knows the key by sending HMAC-SHA256(secret, channel handshake hash) as its first message, so the
proof is bound to that one encrypted session and useless to anyone who records it. A peer is admitted to the
channel only when it is pinned here (mesh.Peer) and not quarantined; a portal is bound to the first pinned
peer that proves its key and refuses every other one afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mesh.identity import node_identity
from mesh.models import Peer, Portal, SyncTransfer
from mesh.note import NoteError, Verifier
from mesh.services import MeshError, publish_on_commit, receipt_issue
from mesh.sync.chunks import ChunkStore

KEY_PREFIX = "dnportal1"
_KEY_RE = re.compile(rf"{KEY_PREFIX}\.([0-9a-f]{{32}})\.([0-9a-f]{{64}})\.([0-9a-f]{{64}})")


class SyncRefused(MeshError):
    """A sync operation the node refuses; ``status`` is the HTTP status the API answers with (422 by default)."""


@dataclass(frozen=True)
class PortalKey:
    portal_id: str
    secret: str
    opener_key: str

    def __str__(self) -> str:
        return f"{KEY_PREFIX}.{self.portal_id}.{self.secret}.{self.opener_key}"


def portal_key(portal: Portal) -> str:
    """The key to give the peer (only the opener can make it; it holds the secret)."""
    return str(PortalKey(portal.portal_id, portal.secret, node_identity().signer.public_key.hex()))


def parse_portal_key(key: str) -> PortalKey:
    match = _KEY_RE.fullmatch((key or "").strip())
    if match is None:
        raise SyncRefused(
            f"That is not a portal key; it looks like {KEY_PREFIX}.<32 hex>.<64 hex>.<64 hex> (from 'dream portal open').",
            code="bad_portal_key",
        )
    return PortalKey(*match.groups())


def key_proof(secret_hex: str, handshake_hash: bytes) -> str:
    return hmac.new(bytes.fromhex(secret_hex), b"dreamnet portal v1" + handshake_hash, hashlib.sha256).hexdigest()


# Paths ----------------------------------------------------------------------------------------------------------


def sync_home() -> Path:
    return Path(settings.DREAMNET_HOME) / "sync"


def chunk_store() -> ChunkStore:
    return ChunkStore(Path(settings.DREAMNET_HOME) / "chunks")


def index_path(portal: Portal) -> Path:
    return sync_home() / "portals" / portal.portal_id / "index.json"


def folder_check(path: str | Path) -> Path:
    folder = Path(path).expanduser()
    if not folder.is_absolute():
        folder = Path.cwd() / folder
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise SyncRefused(f"{folder} is a file; a portal shares a folder.", code="not_a_folder")
    if folder == Path(settings.DREAMNET_HOME).resolve() or Path(settings.DREAMNET_HOME).resolve() in folder.parents:
        raise SyncRefused(f"{folder} is inside DREAMNET_HOME; choose a folder outside the node's state.",
                          code="bad_folder")  # fmt: skip
    taken = Portal.objects.filter(state=Portal.State.OPEN, path=str(folder)).first()
    if taken is not None:
        raise SyncRefused(f"{folder} is already shared by {taken}; close that portal first.", code="folder_taken",
                          status=409)  # fmt: skip
    return folder


# Peers ----------------------------------------------------------------------------------------------------------


def peer_public_key(peer: Peer) -> bytes:
    try:
        return Verifier.from_key(peer.verifier_key).public_key
    except NoteError as exc:  # pinned keys were checked at registration; a damaged row is still refused
        raise SyncRefused(f"The pinned key of {peer.origin} is not valid: {exc}.", code="bad_peer_key") from exc


def peer_find(node: str) -> Peer:
    """The pinned peer named by ``node``: its origin, its id, its URL, or its Ed25519 key (hex)."""
    node = (node or "").strip()
    peer = None
    if node.isdigit():
        peer = Peer.objects.filter(pk=int(node)).first()
    peer = peer or Peer.objects.filter(origin=node).first() or Peer.objects.filter(url=node.rstrip("/")).first()
    if peer is None and re.fullmatch(r"[0-9a-f]{64}", node):
        peer = next((p for p in Peer.objects.all() if peer_public_key(p).hex() == node), None)
    if peer is None:
        raise SyncRefused(f"No pinned peer is named {node!r}; register it first (console, Peers).",
                          code="unknown_peer", status=404)  # fmt: skip
    return peer


def admitted_peer_keys() -> dict[bytes, int]:
    """Ed25519 keys of the pinned peers that may open a channel (every state but quarantined) -> peer id."""
    out = {}
    for peer in Peer.objects.exclude(state=Peer.State.QUARANTINED):
        try:
            out[peer_public_key(peer)] = peer.pk
        except SyncRefused:
            continue
    return out


# Portals --------------------------------------------------------------------------------------------------------


def portal_open(*, path: str | Path, name: str = "", by: Any = None) -> Portal:
    """Share the folder at ``path`` (created if missing) as a new portal; return it (its key: ``portal_key``)."""
    folder = folder_check(path)
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        portal = Portal.objects.create(
            portal_id=secrets.token_hex(16), secret=secrets.token_hex(32), name=(name or folder.name)[:100],
            path=str(folder), role=Portal.Role.OPENER, created_by=by if getattr(by, "pk", None) else None,
        )  # fmt: skip
        publish_on_commit("sync.portal_opened", {"portal": portal.portal_id, "name": portal.name, "role": "opener"})
    return portal


def portal_connect(*, key: str, peer: Peer, path: str | Path | None = None, name: str = "", by: Any = None) -> Portal:
    """Join the portal of ``key`` opened by ``peer``; the sync loop dials it. Path defaults to DREAMNET_HOME/portals."""
    parsed = parse_portal_key(key)
    if peer.state == Peer.State.QUARANTINED:
        raise SyncRefused(f"{peer.origin} is quarantined; lift the quarantine first.", code="peer_quarantined")
    if peer_public_key(peer).hex() != parsed.opener_key:
        raise SyncRefused(f"That portal was opened by another node, not {peer.origin}; check the key and --peer.",
                          code="peer_mismatch")  # fmt: skip
    if Portal.objects.filter(portal_id=parsed.portal_id).exists():
        raise SyncRefused("This node already has that portal.", code="portal_exists", status=409)
    folder = folder_check(path or Path(settings.DREAMNET_HOME).parent / "portals" / parsed.portal_id[:12])
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        portal = Portal.objects.create(
            portal_id=parsed.portal_id, secret=parsed.secret, name=(name or folder.name)[:100], path=str(folder),
            role=Portal.Role.JOINER, peer=peer, opener_key=parsed.opener_key,
            created_by=by if getattr(by, "pk", None) else None,
        )  # fmt: skip
        publish_on_commit("sync.portal_opened", {"portal": portal.portal_id, "name": portal.name, "role": "joiner"})
    return portal


def portal_close(*, portal: Portal) -> Portal:
    """Stop syncing ``portal`` (its files stay); the loop and the server drop its session within seconds."""
    with transaction.atomic():
        locked = Portal.objects.select_for_update().get(pk=portal.pk)
        if locked.state == Portal.State.CLOSED:
            return locked
        locked.state, locked.closed_at, locked.connected = Portal.State.CLOSED, timezone.now(), False
        locked.save(update_fields=["state", "closed_at", "connected"])
        publish_on_commit("sync.portal_closed", {"portal": locked.portal_id, "name": locked.name})
    return locked


def portal_admit(*, portal_id: str, peer_id: int, proof: str, handshake_hash: bytes) -> Portal:
    """Check a joiner's claim on an open portal of ours; bind the portal to that peer on first use.

    Raises SyncRefused ``wrong_portal_key`` (unknown portal or bad proof: the answer does not say which) or
    ``peer_mismatch`` (the portal belongs to another peer).
    """
    portal = Portal.objects.filter(portal_id=str(portal_id), role=Portal.Role.OPENER, state=Portal.State.OPEN).first()
    expected = key_proof(portal.secret if portal else "00" * 32, handshake_hash)
    if portal is None or not hmac.compare_digest(expected, str(proof)):
        raise SyncRefused("The portal key is wrong or the portal is closed.", code="wrong_portal_key", status=403)
    with transaction.atomic():
        locked = Portal.objects.select_for_update().get(pk=portal.pk)
        if locked.peer_id is None:
            locked.peer_id = peer_id
            locked.save(update_fields=["peer"])
        elif locked.peer_id != peer_id:
            raise SyncRefused("This portal is bound to another peer.", code="peer_mismatch", status=403)
    return locked


def portal_state(*, portal_id: int, connected: bool | None = None, error: str | None = None,
                 progress: tuple[int, int] | None = None) -> None:  # fmt: skip
    """Record the live state of a portal's session (connection, last error, transfer progress)."""
    fields: dict[str, Any] = {}
    if connected is not None:
        fields["connected"] = connected
    if error is not None:
        fields["last_error"] = error[:2000]
    if progress is not None:
        fields["progress_done"], fields["progress_total"] = progress
    if fields:
        Portal.objects.filter(pk=portal_id).update(**fields)


def transfer_record(*, kind: str, direction: str, peer_key: bytes, manifest: str, files: int, chunks: int,
                    bytes_moved: int, conflicts: int = 0, portal_id: int | None = None, subject: str = "",
                    started=None) -> SyncTransfer:  # fmt: skip
    """Log one transfer with its signed receipt (sealed in the log) and update the portal's counters.

    Both ends call this for the same transfer with the same manifest digest, chunk count and bytes, so each log
    holds a receipt the other end can be held to. Publishes ``sync.transfer`` on commit.
    """
    now = timezone.now()
    operation = f"sync.{kind}.{'receive' if direction == 'in' else 'send'}"
    with transaction.atomic():
        receipt = receipt_issue(
            operation=operation, subject=subject[:200] or f"{kind} {manifest[:16]}",
            inputs={"peer": peer_key.hex(), "node": node_identity().signer.public_key.hex(), "kind": kind},
            outputs={"manifest": manifest, "files": files, "chunks": chunks, "bytes": bytes_moved,
                     "conflicts": conflicts},
            started=started or now, finished=now, status="succeeded", cost=Decimal("0"),
        )  # fmt: skip
        transfer = SyncTransfer.objects.create(
            kind=kind, direction=direction, portal_id=portal_id, peer_key=peer_key.hex(), manifest_digest=manifest,
            files=files, chunks=chunks, bytes=bytes_moved, conflicts=conflicts, receipt=receipt,
        )  # fmt: skip
        if portal_id is not None:
            counters = {"rounds": F("rounds") + 1, "conflicts": F("conflicts") + conflicts, "last_sync_at": now,
                        "progress_done": 0, "progress_total": 0}  # fmt: skip
            if direction == "in":
                counters |= {"bytes_in": F("bytes_in") + bytes_moved, "files_in": F("files_in") + files}
            else:
                counters |= {"bytes_out": F("bytes_out") + bytes_moved, "files_out": F("files_out") + files}
            Portal.objects.filter(pk=portal_id).update(**counters)
        publish_on_commit("sync.transfer", {"kind": kind, "direction": direction, "manifest": manifest,
                                            "files": files, "chunks": chunks, "bytes": bytes_moved,
                                            "conflicts": conflicts, "receipt": receipt.log_index})  # fmt: skip
    return transfer
