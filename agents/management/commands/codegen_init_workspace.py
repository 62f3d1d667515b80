"""Create the demo Django workspace (a git repository) and register it for the CodeGenerationTeam."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agents.codegen import gitops
from agents.codegen.services import workspace_register
from agents.errors import AgentsError


class Command(BaseCommand):
    help = "Create a small demo Django workspace (git repository) and register it as a codegen workspace."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Folder to create (default: DREAMNET_HOME/codegen/demo).")
        parser.add_argument("--name", default="demo", help="Workspace name (default: demo).")

    def handle(self, *args, path: str | None = None, name: str = "demo", **options):
        root = Path(path or Path(settings.DREAMNET_HOME) / "codegen" / "demo").expanduser().resolve()
        try:
            head = gitops.init_demo(root)
            workspace = workspace_register(
                name=name, path=str(root), allowed_paths=["apps/"], test_command=gitops.DEMO_TEST_COMMAND
            )
        except (gitops.GitError, AgentsError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Workspace {workspace.name!r} at {root} (commit {head[:12]}); patches may touch apps/.")
