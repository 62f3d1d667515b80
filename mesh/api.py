"""/api/mesh/ (the log, events, receipts, artifacts) and /api/dreamsnail/ (public digest commitments).

The log itself is public, as transparency logs are: checkpoint, entries and proofs need no key. Events,
receipts and artifacts carry business data and need the ``mesh`` scope.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.throttling import AnonRateThrottle

from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh import dreamfile
from mesh.identity import node_identity
from mesh.log import latest_checkpoint, log_size
from mesh.merkle import ProofError, leaf_hash
from mesh.models import Artifact, Peer, Receipt, WebhookSubscription
from mesh.note import NoteError
from mesh.peers import services as peers
from mesh.peers.witness import SIZE_CONTENT_TYPE, cosigner_vkey
from mesh.proofbundle import BundleError, entry_commits_digest, verify_bundle
from mesh.selectors import (
    consistency_proof_for,
    entries_page,
    events_page,
    inclusion_bundle,
    inclusion_proof_for,
)
from mesh.services import (
    MeshError,
    artifact_path,
    artifact_read,
    artifact_store,
    dreamsnail_commit,
    dreamsnail_hash_upload,
    event_message,
    receipt_body,
)
from mesh.webhooks import services as webhooks

router = Router(tags=["mesh"])
dreamsnail = Router(tags=["dreamsnail"])

ERRORS_422 = {422: ErrorOut}
MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _single_form_values(request: HttpRequest, *names: str) -> None:
    """Refuse a multipart field sent more than once: Django would silently keep the last one."""
    repeated = [name for name in names if len(request.POST.getlist(name)) > 1 or len(request.FILES.getlist(name)) > 1]
    if repeated:
        raise ApiError(422, "repeated_field", f"Send each of these fields once: {', '.join(repeated)}.")


def _mesh_error(exc: MeshError, status: int = 422) -> ApiError:
    return ApiError(status, exc.code, str(exc))


# The log ------------------------------------------------------------------------------------------------


class NodeOut(Schema):
    node_id: str
    origin: str
    verifier_key: str
    log_size: int
    checkpoint_size: int | None


@router.get("/node", response=NodeOut, summary="This node's identity and log size")
def node(request: HttpRequest):
    identity = node_identity()
    checkpoint = latest_checkpoint()
    return {
        "node_id": identity.node_id,
        "origin": identity.origin,
        "verifier_key": identity.verifier_key,
        "log_size": log_size(),
        "checkpoint_size": checkpoint.size if checkpoint else None,
    }


@router.get("/checkpoint", response={200: str, 404: ErrorOut}, summary="Latest signed checkpoint (text/plain)")
def checkpoint(request: HttpRequest):
    """Return the latest checkpoint as a C2SP signed note (`text/plain`), verifiable with `/api/mesh/node`'s key."""
    latest = latest_checkpoint()
    if latest is None:
        raise ApiError(404, "no_checkpoint", "No checkpoint yet: the log is empty or the first one is being signed.")
    return HttpResponse(latest.note, content_type="text/plain; charset=utf-8")


class EntryOut(Schema):
    index: int
    kind: str
    entry: str
    leaf_hash: str


class EntriesOut(Schema):
    size: int
    entries: list[EntryOut]


class EntriesQuery(Schema):
    start: int = 0
    limit: int = 100


@router.get("/entries", response={200: EntriesOut, **ERRORS_422}, summary="Exact leaf bytes, base64")
def entries(request: HttpRequest, query: Query[EntriesQuery]):
    """Return up to `limit` (≤1000) entries from `start`: each entry's exact bytes, so anyone can rebuild the tree."""
    if query.start < 0 or not 1 <= query.limit <= 1000:
        raise ApiError(422, "bad_range", "start must be ≥ 0 and limit between 1 and 1000.")
    rows = entries_page(start=query.start, limit=query.limit)
    return {
        "size": log_size(),
        "entries": [
            {
                "index": e.index,
                "kind": e.kind,
                "entry": _b64(bytes(e.entry)),
                "leaf_hash": _b64(leaf_hash(bytes(e.entry))),
            }
            for e in rows
        ],
    }


class InclusionOut(Schema):
    index: int
    size: int
    hashes: list[str]


@router.get("/proof/inclusion", response={200: InclusionOut, **ERRORS_422}, summary="RFC 9162 inclusion proof")
def proof_inclusion(request: HttpRequest, index: int, size: int):
    try:
        proof = inclusion_proof_for(index=index, size=size)
    except MeshError as exc:
        raise _mesh_error(exc) from exc
    return {"index": index, "size": size, "hashes": [_b64(h) for h in proof]}


class ConsistencyOut(Schema):
    old: int
    new: int
    hashes: list[str]


@router.get("/proof/consistency", response={200: ConsistencyOut, **ERRORS_422}, summary="RFC 9162 consistency proof")
def proof_consistency(request: HttpRequest, old: int, new: int):
    try:
        proof = consistency_proof_for(old=old, new=new)
    except MeshError as exc:
        raise _mesh_error(exc) from exc
    return {"old": old, "new": new, "hashes": [_b64(h) for h in proof]}


# Events and receipts --------------------------------------------------------------------------------------


class EventOut(Schema):
    seq: int
    topic: str
    payload: dict
    payload_blake3: str
    actor: str
    created_at: str
    public: bool


class EventsOut(Schema):
    events: list[EventOut]
    next_after: int | None


class EventsQuery(Schema):
    topic: str | None = None
    after: int = -1
    limit: int = 100


@router.get(
    "/events", response={200: EventsOut, **AUTH_ERRORS, **ERRORS_422}, auth=require_scope("mesh"), summary="Events"
)
def events(request: HttpRequest, query: Query[EventsQuery]):
    """Events after log index `after`, oldest first; `topic` filters exactly, or by prefix when it ends in `.`.
    Page on with `after=next_after` until it is null."""
    if not 1 <= query.limit <= 500:
        raise ApiError(422, "bad_limit", "limit must be between 1 and 500.")
    rows = events_page(topic=query.topic, after=query.after, limit=query.limit)
    return {
        "events": [event_message(e) for e in rows],
        "next_after": rows[-1].log_index if len(rows) == query.limit else None,
    }


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


# Artifacts ------------------------------------------------------------------------------------------------


class ArtifactOut(Schema):
    blake3: str
    name: str
    media_type: str
    size: int
    compression: str
    created_at: datetime


@router.post(
    "/artifacts", response={201: ArtifactOut, **AUTH_ERRORS, 411: ErrorOut, 413: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"), summary="Store an artifact",
)  # fmt: skip
def artifact_upload(
    request: HttpRequest, file: File[UploadedFile], media_type: Form[str] = "", compression: Form[str] = "none"
):
    """Store the uploaded file once under its BLAKE3 digest (uploading the same content again returns the same
    artifact). 413 above the size limit."""
    _single_form_values(request, "file", "media_type", "compression")
    if file.size > settings.ARTIFACT_MAX_BYTES:
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {settings.ARTIFACT_MAX_BYTES}.")
    if compression not in ("none", "zstd"):
        raise ApiError(422, "bad_compression", "compression is 'none' or 'zstd'.")
    media_type = (media_type or file.content_type or "application/octet-stream").strip().lower()
    if len(media_type) > 127 or not MEDIA_TYPE_RE.fullmatch(media_type):
        raise ApiError(422, "bad_media_type", "media_type is a MIME type such as 'image/png' (at most 127 characters).")
    try:
        artifact = artifact_store(
            content=file.read(),
            name=(Path(file.name or "").name or "artifact")[:255],
            media_type=media_type,
            compression=compression,
        )
    except MeshError as exc:
        raise _mesh_error(exc, 413 if exc.code == "too_large" else 422) from exc
    return Status(201, artifact)


def _artifact(digest: str) -> Artifact:
    return get_object_or_404(Artifact, blake3=digest.lower())


@router.get(
    "/artifacts/{digest}/meta", response={200: ArtifactOut, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh")
)
def artifact_meta(request: HttpRequest, digest: str):
    return _artifact(digest)


@router.get("/artifacts/{digest}", response={200: bytes, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"))
def artifact_download(request: HttpRequest, digest: str):
    """The artifact's content, verified against its digest before it is sent."""
    artifact = _artifact(digest)
    try:
        content = artifact_read(artifact)
    except (OSError, dreamfile.DreamfileError) as exc:
        raise ApiError(409, "artifact_damaged", f"The stored artifact failed verification: {exc}") from exc
    response = HttpResponse(content, content_type=artifact.media_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=artifact.name)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.get(
    "/artifacts/{digest}/dreamfile", response={200: bytes, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh")
)
def artifact_dreamfile(request: HttpRequest, digest: str):
    """The artifact as a self-verifying `.dreamfile` (format in docs/dreamfile.md)."""
    artifact = _artifact(digest)
    response = HttpResponse(
        artifact_path(artifact.blake3).read_bytes(), content_type="application/vnd.dreamnet.dreamfile"
    )
    response["Content-Disposition"] = f'attachment; filename="{artifact.blake3}.dreamfile"'
    return response


# DreamSnail -----------------------------------------------------------------------------------------------


class CommitIn(Schema):
    algorithm: str = "sha256"
    digest: str


class CommitOut(Schema):
    index: int
    algorithm: str
    digest: str
    leaf_hash: str
    proof_url: str


class PendingOut(Schema):
    detail: str
    code: str
    retry_after_s: float


def _commit_out(commit) -> dict:
    from mesh.entries import dreamsnail_entry

    entry = dreamsnail_entry(algorithm=commit.algorithm, digest=commit.digest)
    return {
        "index": commit.log_index,
        "algorithm": commit.algorithm,
        "digest": commit.digest,
        "leaf_hash": _b64(leaf_hash(entry)),
        "proof_url": f"/api/dreamsnail/proof/{commit.log_index}",
    }


def _commit_throttle() -> list:
    return [AnonRateThrottle(settings.DREAMSNAIL_COMMIT_RATE)]


@dreamsnail.post("/commit", response={201: CommitOut, 429: ErrorOut, **ERRORS_422}, throttle=_commit_throttle())
def commit(request: HttpRequest, body: CommitIn):
    """Commit a digest (hex; sha256, sha512, sha3-256 or blake3) to the log. Rate-limited per client address."""
    try:
        row = dreamsnail_commit(algorithm=body.algorithm, digest=body.digest)
    except MeshError as exc:
        raise _mesh_error(exc) from exc
    return Status(201, _commit_out(row))


@dreamsnail.post(
    "/commit/file",
    response={201: CommitOut, 411: ErrorOut, 413: ErrorOut, 429: ErrorOut, **ERRORS_422},
    throttle=_commit_throttle(),
)
def commit_file(request: HttpRequest, file: File[UploadedFile], algorithm: Form[str] = "sha256"):
    """Hash an uploaded file server-side and commit the digest. The file itself is not kept."""
    _single_form_values(request, "file", "algorithm")
    if file.size > settings.DREAMSNAIL_MAX_FILE_BYTES:
        limit = settings.DREAMSNAIL_MAX_FILE_BYTES
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {limit}.")
    try:
        digest = dreamsnail_hash_upload(algorithm=algorithm.strip().lower(), chunks=file.chunks())
        row = dreamsnail_commit(algorithm=algorithm, digest=digest)
    except MeshError as exc:
        raise _mesh_error(exc) from exc
    return Status(201, _commit_out(row))


class ProofOut(Schema):
    index: int
    size: int
    root: str
    bundle: str
    verifier_key: str


@dreamsnail.get("/proof/{index}", response={200: ProofOut, 202: PendingOut, 404: ErrorOut})
def proof(request: HttpRequest, index: int):
    """The tlog-proof@v1 bundle for entry `index`, once a checkpoint covers it; 202 with a retry hint before."""
    try:
        bundle = inclusion_bundle(index)
    except MeshError as exc:
        raise ApiError(404, exc.code, str(exc)) from exc
    if bundle is None:
        retry = settings.MESH_CHECKPOINT_INTERVAL_S
        response = Status(202, {"detail": f"Entry {index} is not covered by a checkpoint yet; retry in {retry:g} s.",
                                "code": "pending", "retry_after_s": retry})  # fmt: skip
        return response
    return {
        "index": index,
        "size": bundle.checkpoint.size,
        "root": _b64(bytes(bundle.checkpoint.root_hash)),
        "bundle": bundle.text,
        "verifier_key": node_identity().verifier_key,
    }


class VerifyIn(Schema):
    bundle: str
    verifier_key: str | None = None
    digest: str | None = None


class VerifyOut(Schema):
    valid: bool
    reason: str | None = None
    index: int | None = None
    size: int | None = None
    origin: str | None = None


@dreamsnail.post("/verify", response={200: VerifyOut, **ERRORS_422})
def verify(request: HttpRequest, body: VerifyIn):
    """Check a bundle: the checkpoint signature (by `verifier_key`, default this node's), the inclusion proof,
    and, when `digest` (hex) is given, that the entry commits that digest. Says valid, or why not."""
    key = body.verifier_key or node_identity().verifier_key
    try:
        result = verify_bundle(body.bundle, key)
    except (BundleError, NoteError, ProofError) as exc:
        return {"valid": False, "reason": str(exc)}
    if body.digest is not None:
        try:
            digest = bytes.fromhex(body.digest.strip())
        except ValueError:
            raise ApiError(422, "bad_digest", "digest must be hex.") from None
        if not entry_commits_digest(result.entry, digest):
            return {"valid": False, "reason": "the proof is valid but the entry does not commit that digest",
                    "index": result.index, "size": result.size, "origin": result.origin}  # fmt: skip
    return {"valid": True, "index": result.index, "size": result.size, "origin": result.origin}


SPEC_PATH = Path(settings.BASE_DIR) / "docs" / "dreamsnail.md"


def _section(title: str) -> str:
    """Return the `## title` section of docs/dreamsnail.md, heading included."""
    lines = SPEC_PATH.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower() == f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip() + "\n"


# These answer Markdown, not JSON; declared by hand because ninja's `response=` describes JSON bodies.
_MARKDOWN_RESPONSE = {
    "responses": {200: {"description": "OK", "content": {"text/markdown": {"schema": {"type": "string"}}}}}
}


def _markdown(title: str) -> HttpResponse:
    return HttpResponse(_section(title), content_type="text/markdown; charset=utf-8")


@dreamsnail.get("/spec", openapi_extra=_MARKDOWN_RESPONSE, summary="The DreamSnail format specification (Markdown)")
def spec(request: HttpRequest):
    return _markdown("specification")


@dreamsnail.get("/summary", openapi_extra=_MARKDOWN_RESPONSE, summary="What DreamSnail is, in brief (Markdown)")
def summary(request: HttpRequest):
    return _markdown("summary")


@dreamsnail.get("/roadmap", openapi_extra=_MARKDOWN_RESPONSE, summary="What DreamSnail will do next (Markdown)")
def roadmap(request: HttpRequest):
    return _markdown("roadmap")


# Peers ----------------------------------------------------------------------------------------------------------

PEER_ERRORS = {**AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _peer_error(exc: MeshError) -> ApiError:
    return ApiError(getattr(exc, "status", 422), exc.code, str(exc))


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
        "size": peer.size, "root_hash": _b64(bytes(peer.root_hash)), "witness_size": peer.witness_size,
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
    try:
        info = peers.peer_discover(url=body.url)
    except MeshError as exc:
        raise _peer_error(exc) from exc
    return info.__dict__


@router.post("/peers", response={201: PeerOut, **PEER_ERRORS}, auth=require_scope("mesh"), summary="Register a peer")
def peer_register(request: HttpRequest, body: PeerIn):
    """Register the node at `url` and pin `verifier_key`; the node must present that key at `/api/mesh/node`.
    Set `trust_on_first_use` when the key came from `/peers/discover` and an operator confirmed it."""
    try:
        peer = peers.peer_register(url=body.url, verifier_key=body.verifier_key, tofu=body.trust_on_first_use,
                                   by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    except MeshError as exc:
        raise _peer_error(exc) from exc
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
    try:
        peer = peers.peer_quarantine_lift(peer=peer, by=f"apikey:{request.api_key.prefix}", note=body.note,
                                          forget_history=body.forget_history)  # fmt: skip
    except MeshError as exc:
        raise _peer_error(exc) from exc
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
        if exc.status == 409:
            return HttpResponse(f"{exc.size}\n", status=409, content_type=SIZE_CONTENT_TYPE)
        raise _peer_error(exc) from exc
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


# Webhooks --------------------------------------------------------------------------------------------------------


class WebhookIn(Schema):
    name: str
    url: str
    topics: list[str]
    secret: str | None = None


class WebhookPatchIn(Schema):
    name: str | None = None
    url: str | None = None
    topics: list[str] | None = None


class WebhookPauseIn(Schema):
    reason: str = "Paused by an operator."


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    topics: list[str]
    state: str
    paused_reason: str
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str


class AttemptOut(Schema):
    number: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str
    response_excerpt: str


class DeliveryOut(Schema):
    id: int
    event_seq: int
    topic: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


def _webhook_out(sub: WebhookSubscription, *, secret: bool = False) -> dict:
    data = {
        "id": sub.pk, "name": sub.name, "url": sub.url, "topics": sub.topics, "state": sub.state,
        "paused_reason": sub.paused_reason, "consecutive_failures": sub.consecutive_failures,
        "failing_since": sub.failing_since, "last_success_at": sub.last_success_at, "created_at": sub.created_at,
    }  # fmt: skip
    return data | {"secret": sub.secret} if secret else data


def _webhook(sub_id: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription, pk=sub_id)


def _webhook_error(exc: MeshError) -> ApiError:
    return ApiError(getattr(exc, "status", 422), exc.code, str(exc))


@router.get("/webhooks", response={200: list[WebhookOut], **AUTH_ERRORS}, auth=require_scope("mesh"))
def webhook_list(request: HttpRequest):
    """Webhook subscriptions (secrets are shown only when created or rotated)."""
    return [_webhook_out(s) for s in WebhookSubscription.objects.all()]


@router.post(
    "/webhooks", response={201: WebhookSecretOut, **AUTH_ERRORS, **ERRORS_422}, auth=require_scope("mesh"),
    summary="Subscribe a URL to events",
)  # fmt: skip
def webhook_create(request: HttpRequest, body: WebhookIn):
    """Events whose topic matches one of `topics` (`*` matches any run of characters: `order.*`, `*.failed`,
    `*`) are POSTed to `url` (http or https) as JSON signed with `secret` (generated when omitted; returned
    only here and by rotate-secret). See docs/mesh.md "Webhooks" for the signature scheme."""
    try:
        sub = webhooks.webhook_create(name=body.name, url=body.url, topics=body.topics, secret=body.secret,
                                      by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    except MeshError as exc:
        raise _webhook_error(exc) from exc
    return Status(201, _webhook_out(sub, secret=True))


@router.get("/webhooks/{sub_id}", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"))
def webhook_detail(request: HttpRequest, sub_id: int):
    return _webhook_out(_webhook(sub_id))


@router.patch(
    "/webhooks/{sub_id}", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_update(request: HttpRequest, sub_id: int, body: WebhookPatchIn):
    """Change the name, URL or topics; fields left out stay as they are."""
    try:
        sub = webhooks.webhook_update(subscription=_webhook(sub_id), name=body.name, url=body.url, topics=body.topics,
                                      by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    except MeshError as exc:
        raise _webhook_error(exc) from exc
    return _webhook_out(sub)


@router.delete("/webhooks/{sub_id}", response={204: None, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"))
def webhook_delete(request: HttpRequest, sub_id: int):
    webhooks.webhook_delete(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    return Status(204, None)


@router.post(
    "/webhooks/{sub_id}/pause", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_pause(request: HttpRequest, sub_id: int, body: WebhookPauseIn):
    try:
        sub = webhooks.webhook_pause(subscription=_webhook(sub_id), reason=body.reason[:500],
                                     by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    except MeshError as exc:
        raise _webhook_error(exc) from exc
    return _webhook_out(sub)


@router.post(
    "/webhooks/{sub_id}/resume", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_resume(request: HttpRequest, sub_id: int):
    """Deliver again; pending deliveries are retried at once and the failure count starts over."""
    try:
        sub = webhooks.webhook_resume(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    except MeshError as exc:
        raise _webhook_error(exc) from exc
    return _webhook_out(sub)


@router.post(
    "/webhooks/{sub_id}/rotate-secret", response={200: WebhookSecretOut, **AUTH_ERRORS, 404: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_rotate_secret(request: HttpRequest, sub_id: int):
    """Replace the signing secret; the next attempt is signed with the new one, which is returned once."""
    sub = webhooks.webhook_rotate_secret(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    return _webhook_out(sub, secret=True)


class DeliveriesQuery(Schema):
    limit: int = 50


@router.get(
    "/webhooks/{sub_id}/deliveries", response={200: list[DeliveryOut], **AUTH_ERRORS, 404: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_deliveries(request: HttpRequest, sub_id: int, query: Query[DeliveriesQuery]):
    """The latest deliveries, newest first, each with its attempt log (status code, error, duration)."""
    if not 1 <= query.limit <= 200:
        raise ApiError(422, "bad_limit", "limit must be between 1 and 200.")
    rows = _webhook(sub_id).deliveries.select_related("event").prefetch_related("attempt_log")[: query.limit]
    return [
        {"id": d.pk, "event_seq": d.event.log_index, "topic": d.event.topic, "status": d.status,
         "attempts": d.attempts, "next_attempt_at": d.next_attempt_at, "last_status_code": d.last_status_code,
         "last_error": d.last_error, "created_at": d.created_at, "delivered_at": d.delivered_at,
         "attempt_log": list(d.attempt_log.all())}
        for d in rows
    ]  # fmt: skip
