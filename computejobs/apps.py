from __future__ import annotations

from django.apps import AppConfig


class ComputejobsConfig(AppConfig):
    name = "computejobs"
    verbose_name = "Compute jobs"

    def serve_setup(self, stdout) -> None:
        """Schedule the showcase refresh and the recovery of lost jobs (run by `manage.py serve`)."""
        from computejobs.tasks import schedule_ensure

        schedule_ensure()
