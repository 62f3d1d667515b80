"""/api/sync/: portals (list, open, connect, close) and the transfer log (``sync`` scope).

The same services as ``dream portal`` and the console; refusals are ``SyncRefused`` (a ``DomainError``) answered
as ``{"detail", "code"}`` by the API root.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from dreamnet.ninja import AUTH_ERRORS, ErrorOut, require_scope
from mesh.models import Portal
from mesh.sync import portals
from mesh.sync.selectors import portal_get, portal_list, transfers_recent

router = Router(tags=["sync"])
ERRORS = {**AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class PortalOut(Schema):
    portal: str
    name: str
    path: str
    role: str
    state: str
    peer: str | None
    connected: bool
    last_sync_at: datetime | None
    bytes_in: int
    bytes_out: int
    files_in: int
    files_out: int
    conflicts: int
    rounds: int
    progress_done: int
    progress_total: int
    last_error: str


class PortalKeyOut(PortalOut):
    key: str


class PortalOpenIn(Schema):
    path: str
    name: str = ""


class PortalConnectIn(Schema):
    key: str
    peer: str
    path: str | None = None
    name: str = ""


class TransferOut(Schema):
    kind: str
    direction: str
    portal: str | None
    peer_key: str
    manifest_digest: str
    files: int
    chunks: int
    bytes: int
    conflicts: int
    receipt_index: int | None
    created_at: datetime


def _portal_out(p: Portal) -> dict:
    return {
        "portal": p.portal_id, "name": p.name, "path": p.path, "role": p.role, "state": p.state,
        "peer": p.peer.origin if p.peer_id else None, "connected": p.connected, "last_sync_at": p.last_sync_at,
        "bytes_in": p.bytes_in, "bytes_out": p.bytes_out, "files_in": p.files_in, "files_out": p.files_out,
        "conflicts": p.conflicts, "rounds": p.rounds, "progress_done": p.progress_done,
        "progress_total": p.progress_total, "last_error": p.last_error,
    }  # fmt: skip


def _by(request: HttpRequest) -> str:
    return f"apikey:{request.api_key.prefix}"


@router.get("/portals", response={200: list[PortalOut], **AUTH_ERRORS}, auth=require_scope("sync"))
def portal_index(request: HttpRequest):
    """This node's portals, newest first, with peer, last sync, bytes moved and conflicts."""
    return [_portal_out(p) for p in portal_list()]


@router.post("/portals", response={201: PortalKeyOut, **ERRORS}, auth=require_scope("sync"), summary="Open a portal")
def portal_open(request: HttpRequest, body: PortalOpenIn):
    """Share a folder of this node (created if missing); the answer holds the key to give the peer."""
    portal = portals.portal_open(path=body.path, name=body.name, by=_by(request))
    return Status(201, _portal_out(portal) | {"key": portals.portal_key(portal)})


@router.post("/portals/connect", response={201: PortalOut, **ERRORS}, auth=require_scope("sync"),
             summary="Join a peer's portal")  # fmt: skip
def portal_connect(request: HttpRequest, body: PortalConnectIn):
    """Join the portal a pinned peer opened (``peer``: its origin, id, URL or key); the sync loop dials it."""
    peer = portals.peer_find(body.peer)
    portal = portals.portal_connect(key=body.key, peer=peer, path=body.path, name=body.name, by=_by(request))
    return Status(201, _portal_out(portal))


@router.post("/portals/{portal_id}/close", response={200: PortalOut, **ERRORS}, auth=require_scope("sync"))
def portal_close(request: HttpRequest, portal_id: str):
    """Stop syncing the portal; its files stay. Closing a closed portal is a no-op."""
    portal = portal_get(portal_id)
    if portal is None:
        raise portals.SyncRefused(f"No portal {portal_id!r} on this node.", code="unknown_portal", status=404)
    return _portal_out(portals.portal_close(portal=portal))


@router.get("/transfers", response={200: list[TransferOut], **AUTH_ERRORS}, auth=require_scope("sync"))
def transfer_index(request: HttpRequest):
    """The latest 50 transfers (portal rounds, sends), each with the log index of its signed receipt."""
    return [
        {"kind": t.kind, "direction": t.direction, "portal": t.portal.portal_id if t.portal_id else None,
         "peer_key": t.peer_key, "manifest_digest": t.manifest_digest, "files": t.files, "chunks": t.chunks,
         "bytes": t.bytes, "conflicts": t.conflicts, "receipt_index": t.receipt.log_index if t.receipt_id else None,
         "created_at": t.created_at}
        for t in transfers_recent(limit=50)
    ]  # fmt: skip
