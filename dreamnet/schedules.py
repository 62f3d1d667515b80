"""Django-Q2 schedules the apps ensure from `manage.py serve` (their AppConfig.serve_setup)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def schedule_every_minute(name: str, func: str) -> None:
    """Create or update the schedule ``name`` that runs the task ``func`` (a dotted path) every minute, forever."""
    from django_q.models import Schedule

    _schedule_ensure(name, {"func": func, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1})


def schedule_daily(name: str, func: str, *, hour: int) -> None:
    """Create or update the schedule ``name`` that runs ``func`` once a day, forever; a new one first runs at the
    next ``hour``:00 UTC, an existing one keeps its next run."""
    from django_q.models import Schedule

    now = timezone.now()
    first = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if first <= now:
        first += timedelta(days=1)
    _schedule_ensure(name, {"func": func, "schedule_type": Schedule.DAILY, "repeats": -1}, next_run=first)


def _schedule_ensure(name: str, fields: dict[str, Any], *, next_run=None) -> None:
    from django_q.models import Schedule

    first = {"next_run": next_run} if next_run is not None else {}
    Schedule.objects.update_or_create(name=name, defaults=fields, create_defaults=fields | first)
