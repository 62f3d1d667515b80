"""/api/mesh/artifacts/: the content-addressed artifact store (``mesh`` scope)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from ninja import File, Form, Schema, Status
from ninja.files import UploadedFile

import mesh.dreamfile as dreamfile
from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh.api.common import ERRORS_422, MEDIA_TYPE_RE, router, single_form_values
from mesh.models import Artifact
from mesh.services import (
    artifact_path,
    artifact_read,
    artifact_store,
)


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
    single_form_values(request, "file", "media_type", "compression")
    if file.size > settings.ARTIFACT_MAX_BYTES:
        raise ApiError(413, "too_large", f"The file is {file.size} bytes; the limit is {settings.ARTIFACT_MAX_BYTES}.")
    if compression not in ("none", "zstd"):
        raise ApiError(422, "bad_compression", "compression is 'none' or 'zstd'.")
    media_type = (media_type or file.content_type or "application/octet-stream").strip().lower()
    if len(media_type) > 127 or not MEDIA_TYPE_RE.fullmatch(media_type):
        raise ApiError(422, "bad_media_type", "media_type is a MIME type such as 'image/png' (at most 127 characters).")
    artifact = artifact_store(
        content=file.read(),
        name=(Path(file.name or "").name or "artifact")[:255],
        media_type=media_type,
        compression=compression,
    )
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
