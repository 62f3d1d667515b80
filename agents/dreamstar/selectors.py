"""DreamStar reads: ingestions, generations, the pipeline's counts and the public figures."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum

from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration, DreamstarIngestion
from agents.models import Mission

KINDS = ("ingest", "generate")


def ingestion_list(*, limit: int = 50) -> QuerySet[DreamstarIngestion]:
    """Return the newest ingestions first."""
    return DreamstarIngestion.objects.order_by("-created_at", "-id")[:limit]


def generation_list(*, limit: int = 50) -> QuerySet[DreamstarGeneration]:
    """Return the newest generations first, with their missions."""
    return DreamstarGeneration.objects.select_related("mission").order_by("-created_at", "-id")[:limit]


def generation_sources(generation: DreamstarGeneration) -> list[dict[str, Any]]:
    """Return the generation's numbered sources: number, chunk (None if since deleted) and whether it is cited."""
    chunks = DreamstarChunk.objects.select_related("ingestion").in_bulk(generation.sources)
    return [
        {"number": n, "chunk_id": pk, "chunk": chunks.get(pk), "cited": pk in generation.citations}
        for n, pk in enumerate(generation.sources, start=1)
    ]


def dreamstar_missions(*, kind: str | None = None, limit: int = 50) -> QuerySet[Mission]:
    """Return DreamStar's missions (ingest and generate), newest first."""
    missions = Mission.objects.filter(kind__in=[kind] if kind else KINDS).select_related("agent", "artifact")
    return missions.order_by("-created_at", "-id")[:limit]


def dreamstar_figures() -> dict[str, int]:
    """Return the counts the site shows: documents ingested, chunks indexed, generations written."""
    return {
        "documents": DreamstarIngestion.objects.count(),
        "chunks": DreamstarIngestion.objects.aggregate(n=Sum("chunk_count"))["n"] or 0,
        "generations": DreamstarGeneration.objects.count(),
    }


def dreamstar_pipeline() -> dict[str, Any]:
    """Return the pipeline's stages (ingest, index, generate) with their mission counts by status and totals."""
    by_status: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for row in Mission.objects.filter(kind__in=KINDS).values("kind", "status").annotate(n=Count("id")):
        by_status[row["kind"]][row["status"]] = row["n"]
    figures = dreamstar_figures()
    return {
        "stages": [
            {"name": "ingest", "missions": by_status["ingest"], "count": figures["documents"],
             "detail": "documents extracted and stored once per BLAKE3 digest"},
            {"name": "index", "missions": {}, "count": figures["chunks"],
             "detail": "chunks in the full-text index"},
            {"name": "generate", "missions": by_status["generate"], "count": figures["generations"],
             "detail": "generations written with citations"},
        ],
        **figures,
    }  # fmt: skip
