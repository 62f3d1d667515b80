"""Compute jobs: validate parameters, queue a Django-Q2 task, run the kernel in the worker, keep the outputs.

Outputs go to the mesh artifact store; every finished job gets a signed receipt and publishes
``compute.job.finished``. The kinds and their validation live in ``computejobs.kinds``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

import mesh
from computejobs.kinds import KINDS, JobError
from computejobs.models import ComputeJob

logger = logging.getLogger(__name__)
# The Django-Q2 entry point a queued job runs (a dotted path stored with each queued task).
JOB_TASK = "computejobs.tasks.compute_job_task"


def job_create(*, kind: str, params: dict, by: User | None = None) -> ComputeJob:
    """Validate and queue a job; the Django-Q2 task starts after this transaction commits."""
    if kind not in KINDS:
        raise JobError(errors={"kind": f"Unknown job kind {kind!r}; use one of: {', '.join(sorted(KINDS))}."})
    if not isinstance(params, dict):
        raise JobError(errors={"params": "Job parameters are a JSON object."})
    clean = KINDS[kind].validate(params)
    with transaction.atomic():
        job = ComputeJob.objects.create(kind=kind, params=clean, created_by=by)
        mesh.publish("compute.job.queued", {"job": job.pk, "kind": kind})
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task(JOB_TASK, job_id, task_name=f"compute-job-{job_id}")


def job_run(*, job: ComputeJob) -> ComputeJob:
    """Run a queued (or interrupted) job to the end and return it.

    Locks the job row to claim it with a lease (``DREAMNET_COMPUTE_JOB_LEASE_S``): a finished job, or one whose
    worker still holds an unexpired lease, is returned as it is, so a retry or a duplicate task is harmless. The
    receipt and the finished state commit together, so a job killed at any point ends with exactly one receipt.
    """
    now = timezone.now()
    with transaction.atomic():
        job = ComputeJob.objects.select_for_update().get(pk=job.pk)
        if job.status in (ComputeJob.Status.SUCCEEDED, ComputeJob.Status.FAILED):
            return job
        if job.status == ComputeJob.Status.RUNNING and job.lease_until and job.lease_until > now:
            return job  # another worker is running it
        job.status, job.started_at, job.progress = ComputeJob.Status.RUNNING, now, 0.0
        job.lease_until = now + timedelta(seconds=settings.COMPUTE_JOB_LEASE_S)
        job.save(update_fields=["status", "started_at", "progress", "lease_until"])

    def progress(fraction: float, message: str) -> None:
        ComputeJob.objects.filter(pk=job.pk).update(progress=max(0.0, min(1.0, fraction)), message=message[:200])
        mesh.publish("compute.job.progress", {"job": job.pk, "progress": round(fraction, 3), "message": message[:200]})

    try:
        result, outputs = KINDS[job.kind].run(job.params, progress)
        status, error = ComputeJob.Status.SUCCEEDED, ""
    except Exception as exc:  # a failed kernel is the job's outcome, recorded for the operator
        logger.exception("Compute job %s failed", job.pk)
        result, outputs, status, error = (
            {"error": f"{type(exc).__name__}: {exc}"},
            [],
            ComputeJob.Status.FAILED,
            str(exc),
        )
    from mesh.services import artifact_store

    stored = []
    for name, media_type, data in outputs:
        artifact = artifact_store(content=data, name=name, media_type=media_type)
        stored.append({"name": name, "blake3": artifact.blake3, "media_type": media_type})
    finished = timezone.now()
    with transaction.atomic():
        receipt = mesh.receipt_issue(
            operation=f"compute.{job.kind}", subject=f"job:{job.pk}", inputs=job.params,
            outputs={"result": {k: v for k, v in result.items() if k != "trace"}, "artifacts": stored},
            started=job.started_at, finished=finished, status="succeeded" if status == "succeeded" else "failed",
            cost=Decimal(0),
        )  # fmt: skip
        ComputeJob.objects.filter(pk=job.pk).update(
            status=status, progress=1.0 if status == "succeeded" else job.progress, result=result, artifacts=stored,
            receipt_index=receipt.log_index, finished_at=finished, message=error[:200] or "done", lease_until=None,
        )  # fmt: skip
        mesh.publish("compute.job.finished", {"job": job.pk, "kind": job.kind, "status": status})
    job.refresh_from_db()
    return job


def jobs_recover() -> int:
    """Queue again the jobs whose worker died (running, lease lapsed) or whose task was lost (queued for longer
    than a lease, as with a Redis broker whose worker was killed); return how many. A job queued twice runs once:
    :func:`job_run` claims it under a lease."""
    now = timezone.now()
    lapsed = ComputeJob.objects.filter(status=ComputeJob.Status.RUNNING, lease_until__lt=now)
    lost = ComputeJob.objects.filter(
        status=ComputeJob.Status.QUEUED, created_at__lt=now - timedelta(seconds=settings.COMPUTE_JOB_LEASE_S)
    )
    ids = sorted(set(lapsed.values_list("pk", flat=True)) | set(lost.values_list("pk", flat=True)))
    for job_id in ids:
        _enqueue(job_id)
    return len(ids)
