from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agent missions"

    def ready(self) -> None:
        import agents.stats  # noqa: F401  (registers the strip's figures)
        from agents.foundry.signals import connect

        connect()

    def serve_setup(self, stdout) -> None:
        """Ensure the mission-recovery schedule (run by `manage.py serve`); agents and prices come from migrations."""
        from agents.foundry.tasks import schedule_ensure as foundry_schedule_ensure
        from agents.tasks import schedule_ensure

        schedule_ensure()
        foundry_schedule_ensure()
