"""The ``ingest`` mission: index the documents its input lists (artifact digests), one step per document.

No LLM call. A resumed run skips documents whose step is stored; re-ingesting bytes already ingested is a no-op.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone

from agents.dreamstar.embeddings import EmbeddingError
from agents.dreamstar.extract import MEDIA_TYPES, ExtractError
from agents.errors import AgentsError
from agents.kinds import Forecast, Outcome, forecast_of

_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_SOURCES = 50


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Return the normalised list of sources; each names a stored artifact and a supported media type."""
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        raise AgentsError("An ingest mission needs sources (artifact digests).", code="documents_required")
    if len(sources) > MAX_SOURCES:
        raise AgentsError(f"At most {MAX_SOURCES} documents per ingestion.", code="too_many_documents")
    cleaned = []
    for source in sources:
        if not isinstance(source, dict) or not _DIGEST.fullmatch(str(source.get("artifact") or "")):
            raise AgentsError("Each source names an artifact by its BLAKE3 digest.", code="bad_source")
        if source.get("media_type") not in MEDIA_TYPES:
            raise AgentsError(f"Unsupported media type {source.get('media_type')!r}.", code="unsupported_type")
        cleaned.append(
            {"artifact": source["artifact"], "name": str(source.get("name") or source["artifact"][:12])[:255],
             "media_type": source["media_type"], "kind": str(source.get("kind") or "upload"),
             "url": str(source.get("url") or "")}
        )  # fmt: skip
    return {"sources": cleaned}


def forecast(*, agent, data: dict[str, Any], model: str) -> Forecast:
    return forecast_of(model=model, calls=[])


def run(*, mission, provider) -> Outcome:
    from agents.dreamstar.services import dreamstar_ingestion_store
    from agents.models import Mission
    from agents.services import mission_cancel_requested, mission_step_add
    from mesh.dreamfile import DreamfileError
    from mesh.models import Artifact
    from mesh.services import artifact_read

    sources = mission.input["sources"]
    done = {step.number: step.output for step in mission.steps.all()}
    results = []
    for number, source in enumerate(sources, start=1):
        if number in done:
            results.append(done[number])
            continue
        if mission_cancel_requested(mission=mission):
            return Outcome(Mission.Status.CANCELLED, Mission.StopReason.CANCELLED, "Cancelled by an operator.")
        started = timezone.now()
        artifact = Artifact.objects.filter(blake3=source["artifact"]).first()
        try:
            if artifact is None:
                raise ExtractError(f"artifact {source['artifact'][:12]}… is not stored on this node")
            ingestion, created = dreamstar_ingestion_store(
                source=source, content=artifact_read(artifact), mission=mission
            )
        except (ExtractError, EmbeddingError, DreamfileError, OSError) as exc:  # a damaged or lost stored file too
            result = {"name": source["name"], "ingestion": None, "created": False, "chunks": 0, "error": str(exc)}
            summary = f"{source['name']}: not ingested ({exc})"
        else:
            result = {"name": source["name"], "ingestion": ingestion.pk, "created": created,
                      "chunks": ingestion.chunk_count, "error": ""}  # fmt: skip
            verb = "ingested" if created else "already ingested"
            summary = f"{source['name']}: {verb}, {ingestion.chunk_count} chunks"
        mission_step_add(
            mission=mission, number=number, summary=summary, output=result, started=started,
            progress=number * 100 // len(sources),
        )  # fmt: skip
        results.append(result)
    failed = [r for r in results if r["error"]]
    lines = [f"- {r['name']}: " + (r["error"] or f"{r['chunks']} chunks" + ("" if r["created"] else " (already ingested)"))
             for r in results]  # fmt: skip
    data = {
        "ingestions": [r["ingestion"] for r in results if r["ingestion"]],
        "created": sum(1 for r in results if r["created"]),
        "unchanged": sum(1 for r in results if r["ingestion"] and not r["created"]),
        "failed": len(failed),
        "chunks": sum(r["chunks"] for r in results if r["created"]),
    }
    text = "DreamStar ingestion\n\n" + "\n".join(lines)
    if failed and len(failed) == len(results):
        return Outcome(Mission.Status.FAILED, Mission.StopReason.ERROR, "No document could be ingested.", text, data)
    error = f"{len(failed)} of {len(results)} documents could not be ingested." if failed else ""
    return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, error, text, data)
