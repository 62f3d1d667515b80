"""Former Django-Q2 entry points of compute jobs, kept as aliases of ``computejobs.tasks``.

Tasks queued before the upgrade that moved compute jobs into their own app name these dotted paths
("dreamnet.tasks.compute_job_task", ...) in the broker, and schedules still name them until ``manage.py serve``
runs ``schedule_ensure`` again. Remove this module once every node has run a release with the ``computejobs`` app
and its queue holds no task queued before it (one release later).
"""

from __future__ import annotations


def compute_job_task(job_id: int) -> str:
    from computejobs.tasks import compute_job_task

    return compute_job_task(job_id)


def compute_jobs_recover_task() -> int:
    from computejobs.tasks import compute_jobs_recover_task

    return compute_jobs_recover_task()


def showcase_task() -> list[str]:
    from computejobs.tasks import showcase_task

    return showcase_task()
