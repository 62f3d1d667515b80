from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mesh.audit import log_audit


class Command(BaseCommand):
    help = "Recompute every log entry from its row, check every tree node and checkpoint signature."

    def handle(self, *args, **options) -> None:
        report = log_audit()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(f"Log intact: {report.size} entries and {report.checkpoints} checkpoints verified.")
            )
            return
        for index, problem in report.problems:
            self.stderr.write(f"index {index}: {problem}" if index is not None else problem)
        first = report.first_bad_index
        where = f"first bad index: {first}" if first is not None else "see the problems above"
        raise CommandError(f"Log audit failed with {len(report.problems)} problem(s); {where}.")
