"""DreamStar writes: accept documents for ingestion, index them, ask for and store cited generations.

Requests (``dreamstar_ingest_request``, ``dreamstar_generate_request``) validate everything a person must fix
before anything is written, then create one mission; the runners (agents/dreamstar/runners) do the work.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from agents.dreamstar.chunking import chunk_text
from agents.dreamstar.compose import FORMATS
from agents.dreamstar.embeddings import embed, embedding_model
from agents.dreamstar.extract import MEDIA_TYPES, ExtractError, extract_text, media_type_for
from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration, DreamstarIngestion
from agents.errors import AgentsError
from agents.models import Mission
from agents.services import mission_create
from mesh.entries import blake3_hex

AGENT = "dreamstar-writer"
MAX_SOURCES = 50
MAX_TEXT_NAME = 200


@dataclass(frozen=True)
class Upload:
    """A document's bytes as received (an uploaded file, pasted text or a fetched URL)."""

    name: str
    content: bytes
    media_type: str = ""
    source_kind: str = DreamstarIngestion.SourceKind.UPLOAD
    url: str = ""


def _too_large(name: str, size: int) -> AgentsError:
    return AgentsError(
        f"{name} is {size} bytes; uploads are limited to {settings.DREAMSTAR_MAX_UPLOAD_BYTES} bytes "
        "(DREAMNET_DREAMSTAR_MAX_UPLOAD_BYTES).",
        code="upload_too_large",
        status=413,
    )


def upload_check(upload: Upload) -> Upload:
    """Return the upload with its media type, or raise AgentsError: ``upload_too_large`` (413),
    ``unsupported_type`` (415) or ``corrupt_file`` (422, the text cannot be extracted)."""
    if len(upload.content) > settings.DREAMSTAR_MAX_UPLOAD_BYTES:
        raise _too_large(upload.name, len(upload.content))
    media_type = upload.media_type or media_type_for(upload.name)
    if media_type not in MEDIA_TYPES:
        known = ", ".join(ext for exts in MEDIA_TYPES.values() for ext in exts)
        raise AgentsError(
            f"{upload.name} is not a supported document type; DreamStar reads {known}.",
            code="unsupported_type",
            status=415,
        )
    try:
        extract_text(upload.content, media_type)
    except ExtractError as exc:
        raise AgentsError(f"{upload.name} cannot be read: {exc}", code="corrupt_file") from None
    return Upload(upload.name, upload.content, media_type, upload.source_kind, upload.url)


def url_fetch(url: str) -> Upload:
    """Fetch ``url`` (http or https) into an Upload, within the upload size cap and the fetch timeout.

    Raises AgentsError ``fetch_disabled`` unless DREAMNET_DREAMSTAR_ALLOW_FETCH is on, ``bad_url`` for another
    scheme, ``fetch_failed`` when the server cannot be read, ``upload_too_large`` past the cap.
    """
    if not settings.DREAMSTAR_ALLOW_FETCH:
        raise AgentsError(
            "Fetching URLs is off on this node; upload the document instead, or set DREAMNET_DREAMSTAR_ALLOW_FETCH.",
            code="fetch_disabled",
        )
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise AgentsError(f"{url!r} is not an http(s) URL.", code="bad_url")
    cap = settings.DREAMSTAR_MAX_UPLOAD_BYTES
    try:
        with urllib.request.urlopen(url, timeout=settings.DREAMSTAR_FETCH_TIMEOUT_S) as response:  # noqa: S310
            content = response.read(cap + 1)
            header = (response.headers.get_content_type() or "").lower()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AgentsError(f"{url} could not be fetched: {exc}", code="fetch_failed") from None
    if len(content) > cap:
        raise _too_large(url, len(content))
    name = parsed.path.rsplit("/", 1)[-1] or parsed.netloc
    media_type = header if header in MEDIA_TYPES else media_type_for(name) or ""
    return Upload(name[:255], content, media_type, DreamstarIngestion.SourceKind.URL, url)


def dreamstar_ingest_request(
    *,
    uploads: list[Upload],
    text: str = "",
    text_name: str = "",
    urls: Sequence[str] = (),
    by: User | None = None,
    via: str = "",
) -> Mission:
    """Check every document, store each as a content-addressed artifact and create one ``ingest`` mission whose
    input lists their digests. Publishes ``dreamstar.ingest.requested`` (and ``mission.created``) after commit.

    Refuses (AgentsError, nothing written) no documents, too many, an unsupported, oversize or unreadable one,
    and URLs while fetching is off.
    """
    from mesh import publish_on_commit
    from mesh.services import artifact_store

    docs = list(uploads)
    if text.strip():
        name = (text_name.strip() or "Pasted text")[:MAX_TEXT_NAME]
        docs.append(Upload(name, text.encode(), "text/markdown", DreamstarIngestion.SourceKind.TEXT))
    docs += [url_fetch(u.strip()) for u in urls if u.strip()]
    if not docs:
        raise AgentsError("Give at least one document: a file, pasted text or a URL.", code="documents_required")
    if len(docs) > MAX_SOURCES:
        raise AgentsError(f"At most {MAX_SOURCES} documents per ingestion.", code="too_many_documents")
    docs = [upload_check(doc) for doc in docs]
    with transaction.atomic():
        sources = []
        for doc in docs:
            artifact = artifact_store(content=doc.content, name=doc.name, media_type=doc.media_type)
            sources.append(
                {"artifact": artifact.blake3, "name": doc.name, "media_type": doc.media_type,
                 "kind": doc.source_kind, "url": doc.url}
            )  # fmt: skip
        mission = mission_create(kind="ingest", agent_slug=AGENT, data={"sources": sources}, by=by, via=via)
        payload = {"mission": mission.pk, "documents": len(sources), "digests": [s["artifact"] for s in sources]}
        publish_on_commit("dreamstar.ingest.requested", payload)
    return mission


def dreamstar_ingestion_store(
    *, source: dict[str, Any], content: bytes, mission: Mission | None = None
) -> tuple[DreamstarIngestion, bool]:
    """Extract, chunk and index one document; return (ingestion, created).

    The same bytes are stored once: a digest already ingested returns the existing ingestion (a no-op), also when
    two missions race on it (the unique digest decides). Ingestion and chunks are written in one transaction, and
    the full-text index follows the chunk rows (SQLite triggers; PostgreSQL's expression index). Raises
    ExtractError for unreadable bytes, EmbeddingError when vectors are configured but cannot be made.
    """
    from mesh import publish_on_commit
    from mesh.models import Artifact

    digest = blake3_hex(content)
    existing = DreamstarIngestion.objects.filter(blake3=digest).first()
    if existing is not None:
        return existing, False
    text = extract_text(content, source["media_type"])
    pieces = chunk_text(text, max_chars=settings.DREAMSTAR_CHUNK_CHARS, overlap=settings.DREAMSTAR_CHUNK_OVERLAP)
    model = embedding_model()
    vectors = embed([f"{p.heading}\n{p.text}".strip() for p in pieces]) if model else [None] * len(pieces)
    try:
        with transaction.atomic():
            ingestion = DreamstarIngestion.objects.create(
                source_kind=source.get("kind") or DreamstarIngestion.SourceKind.UPLOAD,
                name=str(source["name"])[:255],
                url=source.get("url") or "",
                media_type=source["media_type"],
                blake3=digest,
                size=len(content),
                chars=len(text),
                chunk_count=len(pieces),
                artifact=Artifact.objects.get(blake3=digest),
                mission=mission,
            )
            DreamstarChunk.objects.bulk_create(
                DreamstarChunk(
                    ingestion=ingestion, ordinal=i, heading=p.heading[:500], text=p.text,
                    blake3=blake3_hex(p.text.encode()), start=p.start, end=p.end, embedding=vector,
                    embedding_model=model,
                )
                for i, (p, vector) in enumerate(zip(pieces, vectors, strict=True))
            )  # fmt: skip
    except IntegrityError:
        return DreamstarIngestion.objects.get(blake3=digest), False
    payload = {"ingestion": ingestion.pk, "blake3": digest, "chunks": len(pieces), "mission": mission and mission.pk}
    publish_on_commit("dreamstar.ingestion.created", payload)
    return ingestion, True


def dreamstar_generate_request(*, prompt: str, fmt: str, by: User | None = None, via: str = "") -> Mission:
    """Create a ``generate`` mission for a brief. Publishes ``dreamstar.generate.requested`` after commit.

    Refuses (AgentsError) an empty brief, an unknown format, and a node with nothing ingested yet (409).
    """
    from mesh import publish_on_commit

    if fmt not in FORMATS:
        raise AgentsError(f"Format must be one of: {', '.join(FORMATS)}.", code="unknown_format")
    if not prompt.strip():
        raise AgentsError("A generation needs a brief: what should be written?", code="prompt_required")
    if not DreamstarChunk.objects.exists():
        raise AgentsError(
            "Nothing is ingested yet, so nothing could be cited; ingest documents first.",
            code="nothing_ingested",
            status=409,
        )
    with transaction.atomic():
        mission = mission_create(
            kind="generate", agent_slug=AGENT, data={"prompt": prompt, "format": fmt}, by=by, via=via
        )
        payload = {"mission": mission.pk, "format": fmt}
        publish_on_commit("dreamstar.generate.requested", payload)
    return mission


def dreamstar_generation_store(
    *, mission: Mission, prompt: str, fmt: str, text: str, sources: list[int], citations: list[int], dropped: list[int]
) -> DreamstarGeneration:
    """Store a generate mission's text (also as an artifact) and its citations; once per mission (a resumed
    run gets the stored one). Publishes ``dreamstar.generation.created`` after commit."""
    from mesh import publish_on_commit
    from mesh.services import artifact_store

    stored = DreamstarGeneration.objects.filter(mission=mission).first()
    if stored is not None:
        return stored
    artifact = artifact_store(content=text.encode(), name=f"dreamstar-{mission.pk}.md", media_type="text/markdown")
    with transaction.atomic():
        generation = DreamstarGeneration.objects.create(
            mission=mission, prompt=prompt, format=fmt, text=text, sources=sources, citations=citations,
            dropped=dropped, artifact=artifact,
        )  # fmt: skip
        payload = {"generation": generation.pk, "mission": mission.pk, "citations": citations, "dropped": dropped}
        publish_on_commit("dreamstar.generation.created", payload)
    return generation


def dreamstar_loom_corpus():
    """Store the collection's extracted text (every ingestion, oldest first, its chunks joined without their
    overlaps) as one ``text/plain`` artifact and return it: the corpus an ``lm_train`` job names by
    ``corpus_artifact``. Raises AgentsError ``empty_corpus`` when nothing is ingested."""
    from mesh.services import artifact_store

    parts = []
    for ingestion in DreamstarIngestion.objects.order_by("created_at", "id"):
        text, end = [], 0
        for chunk in ingestion.chunks.order_by("ordinal"):
            text.append(chunk.text[max(0, end - chunk.start) :])
            end = max(end, chunk.end)
        parts.append("".join(text).strip())
    corpus = "\n\n".join(p for p in parts if p)
    if not corpus:
        raise AgentsError("DreamStar holds no documents yet: ingest some first.", code="empty_corpus")
    return artifact_store(content=corpus.encode(), name="dreamstar-corpus.txt", media_type="text/plain")
