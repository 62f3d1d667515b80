"""/api/mesh/ (the log, events, receipts, artifacts) and /api/dreamsnail/ (public digest commitments).

The log itself is public, as transparency logs are: checkpoint, entries and proofs need no key. Events,
receipts and artifacts carry business data and need the ``mesh`` scope.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.throttling import AnonRateThrottle

from dreamnet.api import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh import dreamfile
from mesh.identity import node_identity
from mesh.log import latest_checkpoint, log_size
from mesh.merkle import ProofError, leaf_hash
from mesh.models import Artifact, Receipt
from mesh.note import NoteError
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

router = Router(tags=["mesh"])
dreamsnail = Router(tags=["dreamsnail"])

ERRORS_422 = {422: ErrorOut}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


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
    "/artifacts", response={201: ArtifactOut, **AUTH_ERRORS, 413: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"), summary="Store an artifact",
)  # fmt: skip
def artifact_upload(
    request: HttpRequest, file: File[UploadedFile], media_type: Form[str] = "", compression: Form[str] = "none"
):
    """Store the uploaded file once under its BLAKE3 digest (uploading the same content again returns the same
    artifact). 413 above the size limit."""
    if file.size > settings.ARTIFACT_MAX_BYTES:
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {settings.ARTIFACT_MAX_BYTES}.")
    if compression not in ("none", "zstd"):
        raise ApiError(422, "bad_compression", "compression is 'none' or 'zstd'.")
    try:
        artifact = artifact_store(
            content=file.read(),
            name=file.name or "artifact",
            media_type=media_type or file.content_type or "application/octet-stream",
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
    response["Content-Disposition"] = f'attachment; filename="{artifact.name}"'
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
    "/commit/file", response={201: CommitOut, 413: ErrorOut, 429: ErrorOut, **ERRORS_422}, throttle=_commit_throttle()
)
def commit_file(request: HttpRequest, file: File[UploadedFile], algorithm: Form[str] = "sha256"):
    """Hash an uploaded file server-side and commit the digest. The file itself is not kept."""
    if file.size > settings.ARTIFACT_MAX_BYTES:
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {settings.ARTIFACT_MAX_BYTES}.")
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


def _markdown(title: str) -> HttpResponse:
    return HttpResponse(_section(title), content_type="text/markdown; charset=utf-8")


@dreamsnail.get("/spec", response={200: str}, summary="The DreamSnail format specification (Markdown)")
def spec(request: HttpRequest):
    return _markdown("specification")


@dreamsnail.get("/summary", response={200: str}, summary="What DreamSnail is, in brief (Markdown)")
def summary(request: HttpRequest):
    return _markdown("summary")


@dreamsnail.get("/roadmap", response={200: str}, summary="What DreamSnail will do next (Markdown)")
def roadmap(request: HttpRequest):
    return _markdown("roadmap")
