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
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="site: refresh showcase frames",
        defaults={
            "func": "dreamnet.tasks.showcase_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="compute: recover jobs",
        defaults={
            "func": "dreamnet.tasks.compute_jobs_recover_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
