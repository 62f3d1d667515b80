from __future__ import annotations

from django.apps import AppConfig


class DreamnetConfig(AppConfig):
    name = "dreamnet"
    verbose_name = "DreamNet platform"

    def ready(self) -> None:
        from dreamnet import security  # noqa: F401  (connects the sign-in lockout signal receivers)

    def serve_setup(self, stdout) -> None:
        """Schedule the health-round recorder: the coherence view has history even when nobody probes the node."""
        from dreamnet.schedules import schedule_every_minute

        schedule_every_minute("dreamnet.health_record", "dreamnet.health.health_record_task")
