from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agent missions"

    def ready(self) -> None:
        import agents.stats  # noqa: F401  (registers the strip's figures)
        from agents.mission_kinds import register
        from agents.watcher.health import probe_request_folder
        from dreamnet.health import probe

        probe("request_folder", required=False)(probe_request_folder)
        register()  # the mission kinds other apps ask for by name (dreamnet.missions)

    def serve_setup(self, stdout) -> None:
        """Ensure the mission-recovery, request-folder and nightly-evolution schedules (run by `manage.py serve`);
        agents and prices come from migrations."""
        from agents.foundry.tasks import schedule_ensure as foundry_schedule_ensure
        from agents.tasks import schedule_ensure
        from agents.watcher.tasks import schedule_ensure as request_schedule_ensure

        schedule_ensure()
        request_schedule_ensure()
        foundry_schedule_ensure()
        stdout.write(f"Request folder (files dropped here become missions): {settings.REQUESTS_DIR}")
        self._codegen_demo_workspace(stdout)

    def _codegen_demo_workspace(self, stdout) -> None:
        """Give a new node the demo codegen workspace, so the CodeGenerationTeam can be tried at once."""
        from django.core.management import CommandError, call_command

        from agents.codegen.models import Workspace

        if Workspace.objects.exists():
            return
        try:
            call_command("codegen_init_workspace", stdout=stdout)
        except CommandError as exc:  # git missing, or the folder taken: the console explains how to add one
            stdout.write(f"No demo codegen workspace: {exc}")
