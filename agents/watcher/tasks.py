"""Django-Q2 entry point: scan the request folder (scheduled every minute)."""

from __future__ import annotations

from dreamnet.schedules import schedule_every_minute

SCAN_SCHEDULE = "agents: request folder"


def request_folder_scan_task() -> int:
    """Scan DREAMNET_REQUESTS_DIR once; return how many files were taken."""
    from agents.watcher.services import request_folder_scan

    return len(request_folder_scan().picked)


def schedule_ensure() -> None:
    schedule_every_minute(SCAN_SCHEDULE, "agents.watcher.tasks.request_folder_scan_task")
