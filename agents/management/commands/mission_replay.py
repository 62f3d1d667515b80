"""Re-run a mission against its cassette, with no network, and compare the outputs."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.llm import LlmError
from agents.models import Mission
from agents.services import mission_replay


class Command(BaseCommand):
    help = "Replay mission ID from its recorded LLM calls and tool results (no network) and check its output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mission_id", type=int)
        parser.add_argument("--show", action="store_true", help="Print the replayed output.")

    def handle(self, *args, mission_id: int, show: bool, **options) -> None:
        mission = Mission.objects.select_related("agent").filter(pk=mission_id).first()
        if mission is None:
            raise CommandError(f"No mission {mission_id}.")
        try:
            result = mission_replay(mission=mission)
        except LlmError as exc:
            raise CommandError(f"Mission {mission_id} diverged from its cassette: {exc}") from exc
        if show:
            self.stdout.write(result["text"])
        if result["detail"]:
            self.stdout.write(result["detail"])
        if not result["matches"]:
            raise CommandError(f"Mission {mission_id}: the replayed output differs from the stored output.")
        self.stdout.write(
            self.style.SUCCESS(f"Mission {mission_id}: {result['calls']} call(s) replayed offline; output identical.")
        )
