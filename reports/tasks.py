"""Django-Q2 entry points for reports: thin."""

from __future__ import annotations

SCHEDULE_NAME = "reports: request scheduled company reports"


def report_schedules_task() -> int:
    """Request the reports whose schedule is due (monthly on the 1st, weekly on Monday; each period once)."""
    from reports.services import schedules_run

    return len(schedules_run())


def schedule_ensure() -> None:
    """Run :func:`report_schedules_task` every hour (a period's report goes out within the hour it is due)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "reports.tasks.report_schedules_task", "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
