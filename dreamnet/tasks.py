"""Django-Q2 entry points for the platform."""

from __future__ import annotations

from dreamnet.compute_jobs import job_run
from dreamnet.models import ComputeJob


def compute_job_task(job_id: int) -> str:
    return job_run(job=ComputeJob.objects.get(pk=job_id)).status


def compute_jobs_recover_task() -> int:
    """Queue again compute jobs whose worker died or whose task was lost."""
    from dreamnet.compute_jobs import jobs_recover

    return jobs_recover()


def showcase_task() -> list[str]:
    from dreamnet.showcase import showcase_refresh

    return [f"{f.kind} {f.pk}" for f in showcase_refresh()]


def schedule_ensure() -> None:
    from dreamnet.schedules import schedule_every_minute

    schedule_every_minute("site: refresh showcase frames", "dreamnet.tasks.showcase_task")
    schedule_every_minute("compute: recover jobs", "dreamnet.tasks.compute_jobs_recover_task")
