"""Django-Q2 schedules the apps ensure from `manage.py serve` (their AppConfig.serve_setup)."""

from __future__ import annotations


def schedule_every_minute(name: str, func: str) -> None:
    """Create or update the schedule ``name`` that runs the task ``func`` (a dotted path) every minute, forever."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1}
    )
