"""/api/dreamsnail/: public digest commitments, proofs, offline verification and the spec."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.throttling import AnonRateThrottle

from dreamnet.ninja import ApiError, ErrorOut
from mesh.api.common import ERRORS_422, b64, single_form_values
from mesh.identity import node_identity
from mesh.merkle import ProofError, leaf_hash
from mesh.note import NoteError
from mesh.proofbundle import BundleError, entry_commits_digest, verify_bundle
from mesh.selectors import (
    inclusion_bundle,
)
from mesh.services import (
    dreamsnail_commit,
    dreamsnail_hash_upload,
)

router = Router(tags=["dreamsnail"])


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
        "leaf_hash": b64(leaf_hash(entry)),
        "proof_url": f"/api/dreamsnail/proof/{commit.log_index}",
    }


def _commit_throttle() -> list:
    return [AnonRateThrottle(settings.DREAMSNAIL_COMMIT_RATE)]


@router.post("/commit", response={201: CommitOut, 429: ErrorOut, **ERRORS_422}, throttle=_commit_throttle())
def commit(request: HttpRequest, body: CommitIn):
    """Commit a digest (hex; sha256, sha512, sha3-256 or blake3) to the log. Rate-limited per client address."""
    row = dreamsnail_commit(algorithm=body.algorithm, digest=body.digest)
    return Status(201, _commit_out(row))


@router.post(
    "/commit/file",
    response={201: CommitOut, 411: ErrorOut, 413: ErrorOut, 429: ErrorOut, **ERRORS_422},
    throttle=_commit_throttle(),
)
def commit_file(request: HttpRequest, file: File[UploadedFile], algorithm: Form[str] = "sha256"):
    """Hash an uploaded file server-side and commit the digest. The file itself is not kept."""
    single_form_values(request, "file", "algorithm")
    if file.size > settings.DREAMSNAIL_MAX_FILE_BYTES:
        limit = settings.DREAMSNAIL_MAX_FILE_BYTES
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {limit}.")
    digest = dreamsnail_hash_upload(algorithm=algorithm.strip().lower(), chunks=file.chunks())
    row = dreamsnail_commit(algorithm=algorithm, digest=digest)
    return Status(201, _commit_out(row))


class ProofOut(Schema):
    index: int
    size: int
    root: str
    bundle: str
    verifier_key: str


@router.get("/proof/{index}", response={200: ProofOut, 202: PendingOut, 404: ErrorOut})
def proof(request: HttpRequest, index: int):
    """The tlog-proof@v1 bundle for entry `index`, once a checkpoint covers it; 202 with a retry hint before."""
    bundle = inclusion_bundle(index)
    if bundle is None:
        retry = settings.MESH_CHECKPOINT_INTERVAL_S
        response = Status(202, {"detail": f"Entry {index} is not covered by a checkpoint yet; retry in {retry:g} s.",
                                "code": "pending", "retry_after_s": retry})  # fmt: skip
        return response
    return {
        "index": index,
        "size": bundle.checkpoint.size,
        "root": b64(bytes(bundle.checkpoint.root_hash)),
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


@router.post("/verify", response={200: VerifyOut, **ERRORS_422})
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


@router.get("/spec", openapi_extra=_MARKDOWN_RESPONSE, summary="The DreamSnail format specification (Markdown)")
def spec(request: HttpRequest):
    return _markdown("specification")


@router.get("/summary", openapi_extra=_MARKDOWN_RESPONSE, summary="What DreamSnail is, in brief (Markdown)")
def summary(request: HttpRequest):
    return _markdown("summary")


@router.get("/roadmap", openapi_extra=_MARKDOWN_RESPONSE, summary="What DreamSnail will do next (Markdown)")
def roadmap(request: HttpRequest):
    return _markdown("roadmap")
