"""Django-Q2 entry points for compute jobs and the showcase: they take ids and delegate to a service."""

from __future__ import annotations

from computejobs.models import ComputeJob
from computejobs.services import job_run, jobs_recover
from computejobs.showcase import showcase_refresh


def compute_job_task(job_id: int) -> str:
    return job_run(job=ComputeJob.objects.get(pk=job_id)).status


def compute_jobs_recover_task() -> int:
    """Queue again compute jobs whose worker died or whose task was lost."""
    return jobs_recover()


def showcase_task() -> list[str]:
    return [f"{f.kind} {f.pk}" for f in showcase_refresh()]


def schedule_ensure() -> None:
    """Create the two every-minute schedules, or point existing ones (matched by name) at these functions."""
    from dreamnet.schedules import schedule_every_minute

    schedule_every_minute("site: refresh showcase frames", "computejobs.tasks.showcase_task")
    schedule_every_minute("compute: recover jobs", "computejobs.tasks.compute_jobs_recover_task")
