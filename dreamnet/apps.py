from __future__ import annotations

from django.apps import AppConfig


class DreamnetConfig(AppConfig):
    name = "dreamnet"
    verbose_name = "DreamNet platform"

    def serve_setup(self, stdout) -> None:
        """Schedule the showcase refresh (run by `manage.py serve`)."""
        from dreamnet.tasks import schedule_ensure

        schedule_ensure()
