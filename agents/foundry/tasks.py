"""Django-Q2 entry points of the foundry: the nightly evolution run."""

from __future__ import annotations

from typing import Any

from django_q.models import Schedule

NIGHTLY_SCHEDULE = "agents: foundry nightly evolution"


def evolution_nightly_task() -> dict[str, Any]:
    """Breed and evaluate tonight's hybrids (a no-op while DREAMNET_FOUNDRY_NIGHTLY_HYBRIDS is 0)."""
    from agents.foundry.services import evolution_nightly

    return evolution_nightly()


def schedule_ensure() -> None:
    """Ensure the daily schedule (03:00 UTC); the task itself checks whether evolution is on."""
    Schedule.objects.update_or_create(
        name=NIGHTLY_SCHEDULE,
        defaults={
            "func": "agents.foundry.tasks.evolution_nightly_task",
            "schedule_type": Schedule.CRON,
            "cron": "0 3 * * *",
            "repeats": -1,
        },
    )
