from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mesh.log import LogInconsistent, checkpoint_sign


class Command(BaseCommand):
    help = "Sign a checkpoint over the current log now (if it grew since the last one)."

    def handle(self, *args, **options) -> None:
        try:
            checkpoint = checkpoint_sign(force=True)
        except LogInconsistent as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            self.stdout.write("Nothing to sign: the latest checkpoint covers the whole log.")
        else:
            self.stdout.write(f"Signed checkpoint at size {checkpoint.size}.")
