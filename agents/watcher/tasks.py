"""Django-Q2 entry point: scan the request folder (scheduled every minute)."""

from __future__ import annotations

from django_q.models import Schedule

SCAN_SCHEDULE = "agents: request folder"


def request_folder_scan_task() -> int:
    """Scan DREAMNET_REQUESTS_DIR once; return how many files were taken."""
    from agents.watcher.services import request_folder_scan

    return len(request_folder_scan().picked)


def schedule_ensure() -> None:
    Schedule.objects.update_or_create(
        name=SCAN_SCHEDULE,
        defaults={
            "func": "agents.watcher.tasks.request_folder_scan_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
