"""Compute job reads: the kinds and TSPLIB instances on offer, job lists, and a job as the API shows it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from compute.instances import KNOWN_OPTIMA, instance_paths
from computejobs.kinds import KINDS
from computejobs.models import ComputeJob


def job_list(*, kind: str | None = None) -> QuerySet[ComputeJob]:
    """Return jobs newest first, of one kind when ``kind`` is given."""
    return ComputeJob.objects.filter(kind=kind) if kind else ComputeJob.objects.all()


def artifact_url(blake3: str) -> str:
    return f"/console/artifacts/{blake3}"


def instances_offered() -> list[dict[str, Any]]:
    """Return the TSPLIB instances a ``tsp`` job may name (bundled and DREAMNET_TSPLIB_DIR's), with their
    published optimum where DreamNet knows it."""
    return [{"name": name, "optimum": KNOWN_OPTIMA.get(name)} for name in instance_paths(settings.TSPLIB_DIR)]


def kinds_summary() -> dict[str, str]:
    return {name: kind.summary for name, kind in sorted(KINDS.items())}


def result_json(job: ComputeJob) -> dict[str, Any]:
    return {"id": job.pk, "kind": job.kind, "status": job.status, "progress": job.progress, "message": job.message,
            "params": {k: v for k, v in job.params.items() if k != "tsplib"}, "result": job.result,
            "artifacts": [a | {"url": artifact_url(a["blake3"])} for a in job.artifacts],
            "receipt_index": job.receipt_index, "created_at": job.created_at, "finished_at": job.finished_at}  # fmt: skip
