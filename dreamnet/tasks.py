"""Django-Q2 entry points for the platform."""

from __future__ import annotations

from dreamnet.compute_jobs import job_run
from dreamnet.models import ComputeJob


def compute_job_task(job_id: int) -> str:
    return job_run(job=ComputeJob.objects.get(pk=job_id)).status
