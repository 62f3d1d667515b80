"""Ingest a folder of documents into DreamStar (txt, md, html, pdf; other files are listed and skipped)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.dreamstar.extract import media_type_for
from agents.dreamstar.services import MAX_SOURCES, Upload, dreamstar_ingest_request
from agents.errors import AgentsError


class Command(BaseCommand):
    help = "Ingest every supported document under FOLDER (recursively) as DreamStar ingest missions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--now", action="store_true", help="Run the missions here instead of on the task queue.")

    def handle(self, *args, folder: Path, now: bool, **options) -> None:
        from django.conf import settings

        from agents.services import mission_run

        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
        supported = [p for p in files if media_type_for(p.name)]
        for skipped in sorted(set(files) - set(supported)):
            self.stdout.write(f"skipped (unsupported type): {skipped.relative_to(folder)}")
        if not supported:
            raise CommandError(f"No txt, md, html or pdf file under {folder}.")
        for start in range(0, len(supported), MAX_SOURCES):
            batch = supported[start : start + MAX_SOURCES]
            for path in batch:
                if path.stat().st_size > settings.DREAMSTAR_MAX_UPLOAD_BYTES:
                    raise CommandError(f"{path} is larger than DREAMNET_DREAMSTAR_MAX_UPLOAD_BYTES; nothing queued.")
            uploads = [Upload(str(p.relative_to(folder)), p.read_bytes()) for p in batch]
            try:
                mission = dreamstar_ingest_request(uploads=uploads, via="manage.py dreamstar_ingest")
            except AgentsError as exc:
                raise CommandError(f"{exc} ({exc.code})") from exc
            if now:
                mission = mission_run(mission_id=mission.pk) or mission
                out = mission.output or {}
                self.stdout.write(
                    f"mission {mission.pk}: {mission.status}; {out.get('created', 0)} new, "
                    f"{out.get('unchanged', 0)} already ingested, {out.get('failed', 0)} failed, "
                    f"{out.get('chunks', 0)} chunks"
                )
            else:
                self.stdout.write(f"mission {mission.pk}: queued with {len(batch)} document(s)")
