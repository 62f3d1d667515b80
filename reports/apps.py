from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from agents.kinds import RUNNERS

        # Report missions run reports.runner; agents imports nothing from reports (it sits above agents).
        RUNNERS["report"] = "reports.runner"

    def serve_setup(self, stdout) -> None:
        """Ensure the schedule that requests due company reports (run by `manage.py serve`)."""
        from reports.tasks import schedule_ensure

        schedule_ensure()
