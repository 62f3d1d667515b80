"""/api/dreamstar: ingest documents, search their chunks, generate cited text (API key scope ``dreamstar``)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from agents.dreamstar import selectors
from agents.dreamstar.compose import FORMATS
from agents.dreamstar.models import DreamstarGeneration
from agents.dreamstar.search import chunk_search
from agents.dreamstar.services import Upload, dreamstar_generate_request, dreamstar_ingest_request
from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope

router = Router(tags=["dreamstar"], auth=require_scope("dreamstar"))
INGEST_ERRORS = {409: ErrorOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


class MissionRefOut(Schema):
    id: int
    kind: str
    status: str
    stop_reason: str
    error: str
    output: dict | None
    created_at: datetime
    finished_at: datetime | None


def _mission(m) -> dict:
    return {"id": m.pk, "kind": m.kind, "status": m.status, "stop_reason": m.stop_reason, "error": m.error,
            "output": m.output, "created_at": m.created_at, "finished_at": m.finished_at}  # fmt: skip


@router.post("/ingest", response={202: MissionRefOut, **INGEST_ERRORS}, summary="Ingest documents")
def ingest(
    request: HttpRequest,
    files: File[list[UploadedFile]] = None,
    text: Form[str] = "",
    name: Form[str] = "",
    urls: Form[str] = "",
):
    """Multipart: `files` (txt, md, html, pdf), and/or `text` (pasted Markdown, titled `name`), and/or `urls`
    (whitespace-separated; refused unless DREAMNET_DREAMSTAR_ALLOW_FETCH).
    Every document is checked before anything is stored: 413 `upload_too_large`, 415 `unsupported_type`, 422
    `corrupt_file`, `fetch_disabled` or `documents_required`. Returns the queued `ingest` mission (202)."""
    uploads = []
    for f in files or []:
        if f.size and f.size > settings.DREAMSTAR_MAX_UPLOAD_BYTES:  # refuse before reading the body
            raise ApiError(413, "upload_too_large", f"{f.name} is {f.size} bytes; the limit is "
                           f"{settings.DREAMSTAR_MAX_UPLOAD_BYTES} (DREAMNET_DREAMSTAR_MAX_UPLOAD_BYTES).")  # fmt: skip
        uploads.append(Upload(f.name or "upload", f.read()))
    mission = dreamstar_ingest_request(
        uploads=uploads, text=text, text_name=name, urls=urls.split(), via=f"api:{request.api_key.name}"
    )
    return Status(202, _mission(mission))


class UrlsIn(Schema):
    urls: list[str] = Field(description="http(s) URLs of documents (txt, md, html, pdf).")


@router.post("/ingest/urls", response={202: MissionRefOut, **INGEST_ERRORS}, summary="Ingest documents by URL")
def ingest_urls(request: HttpRequest, body: UrlsIn):
    """JSON `{"urls": [...]}`. 422 `fetch_disabled` unless DREAMNET_DREAMSTAR_ALLOW_FETCH; each URL is fetched
    within the upload size cap and timeout, then checked like an upload, before anything is stored."""
    mission = dreamstar_ingest_request(uploads=[], urls=body.urls, via=f"api:{request.api_key.name}")
    return Status(202, _mission(mission))


class GenerateIn(Schema):
    prompt: str = Field(description="The brief: what to write, for whom.")
    format: str = Field("summary", description=f"One of: {', '.join(FORMATS)}.")


@router.post("/generate", response={202: MissionRefOut, **INGEST_ERRORS}, summary="Generate cited text")
def generate(request: HttpRequest, body: GenerateIn):
    """Queue a `generate` mission: the best chunks for the brief become numbered sources, the agent's model writes
    from them, and only citations of those chunks are kept. 409 `nothing_ingested`; 422 bad brief or format."""
    mission = dreamstar_generate_request(prompt=body.prompt, fmt=body.format, via=f"api:{request.api_key.name}")
    return Status(202, _mission(mission))


class StageOut(Schema):
    name: str
    count: int
    detail: str
    missions: dict[str, int]


class PipelineOut(Schema):
    documents: int
    chunks: int
    generations: int
    stages: list[StageOut]


@router.get("/pipeline", response={200: PipelineOut, **AUTH_ERRORS}, summary="Pipeline stages and counts")
def pipeline(request: HttpRequest):
    return selectors.dreamstar_pipeline()


class MissionsQuery(Schema):
    kind: str | None = Field(None, description="`ingest` or `generate`; both when omitted.")
    limit: int = Field(50, ge=1, le=200)


@router.get("/missions", response={200: list[MissionRefOut], 422: ErrorOut, **AUTH_ERRORS}, summary="History")
def missions(request: HttpRequest, query: Query[MissionsQuery]):
    if query.kind and query.kind not in selectors.KINDS:
        raise ApiError(422, "unknown_kind", "Kind is `ingest` or `generate`.")
    return [_mission(m) for m in selectors.dreamstar_missions(kind=query.kind, limit=query.limit)]


class IngestionOut(Schema):
    id: int
    name: str
    source_kind: str
    url: str
    media_type: str
    blake3: str
    size: int
    chars: int
    chunk_count: int
    mission_id: int | None
    created_at: datetime


@router.get("/ingestions", response={200: list[IngestionOut], **AUTH_ERRORS}, summary="Ingested documents")
def ingestions(request: HttpRequest, limit: int = 100):
    return list(selectors.ingestion_list(limit=max(1, min(limit, 500))))


class HitOut(Schema):
    chunk_id: int
    ingestion_id: int
    document: str
    ordinal: int
    heading: str
    text: str
    start: int
    end: int
    score: float


@router.get("/search", response={200: list[HitOut], 422: ErrorOut, **AUTH_ERRORS}, summary="Search the chunks")
def search(request: HttpRequest, q: str, limit: int = 10):
    """Full-text search (any of the query's words, best match first)."""
    if not q.strip():
        raise ApiError(422, "query_required", "Give a query in `q`.")
    return [
        {"chunk_id": h.chunk.pk, "ingestion_id": h.chunk.ingestion_id, "document": h.chunk.ingestion.name,
         "ordinal": h.chunk.ordinal, "heading": h.chunk.heading, "text": h.chunk.text, "start": h.chunk.start,
         "end": h.chunk.end, "score": h.score}
        for h in chunk_search(q, limit=max(1, min(limit, 50)))
    ]  # fmt: skip


class SourceOut(Schema):
    number: int
    chunk_id: int
    cited: bool
    document: str | None
    heading: str | None


class GenerationOut(Schema):
    id: int
    mission_id: int
    prompt: str
    format: str
    text: str
    citations: list[int]
    dropped: list[int]
    sources: list[SourceOut]
    artifact_blake3: str | None
    created_at: datetime


@router.get("/generations/{generation_id}", response={200: GenerationOut, 404: ErrorOut, **AUTH_ERRORS},
            summary="One generation with its citations")  # fmt: skip
def generation(request: HttpRequest, generation_id: int):
    g = get_object_or_404(DreamstarGeneration.objects.select_related("artifact"), pk=generation_id)
    sources = [
        {"number": s["number"], "chunk_id": s["chunk_id"], "cited": s["cited"],
         "document": s["chunk"].ingestion.name if s["chunk"] else None,
         "heading": s["chunk"].heading if s["chunk"] else None}
        for s in selectors.generation_sources(g)
    ]  # fmt: skip
    return {"id": g.pk, "mission_id": g.mission_id, "prompt": g.prompt, "format": g.format, "text": g.text,
            "citations": g.citations, "dropped": g.dropped, "sources": sources,
            "artifact_blake3": g.artifact.blake3 if g.artifact_id else None, "created_at": g.created_at}  # fmt: skip
