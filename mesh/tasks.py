"""Django-Q2 entry points for the mesh."""

from __future__ import annotations

from django_q.models import Schedule

from mesh.log import checkpoint_sign

SCHEDULE_NAME = "mesh: sign checkpoint"


def checkpoint_task() -> int | None:
    """Sign a checkpoint if entries are uncovered (safety net behind the in-process one-second cadence)."""
    checkpoint = checkpoint_sign(force=True)
    return checkpoint.size if checkpoint else None


def schedule_ensure() -> None:
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "mesh.tasks.checkpoint_task", "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
