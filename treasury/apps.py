from __future__ import annotations

from django.apps import AppConfig


class TreasuryConfig(AppConfig):
    name = "treasury"
    verbose_name = "Treasury"

    def serve_setup(self, stdout) -> None:
        """Schedule the periodic valuation snapshots (run by `manage.py serve`)."""
        from treasury.tasks import schedules_ensure

        schedules_ensure()
