"""Watch the request folder in the foreground: files dropped there become missions."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from agents.watcher.services import Picked, request_folder_scan


class Command(BaseCommand):
    help = (
        "Scan DREAMNET_REQUESTS_DIR every --interval seconds and turn request files into missions (--once: one "
        "scan, then exit). Ctrl-C stops after the file in hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Scan once and exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between scans (default 2).")
        parser.add_argument("--directory", type=Path, help="Folder to watch (default DREAMNET_REQUESTS_DIR).")

    def handle(self, *args, once: bool, interval: float, directory: Path | None, **options) -> None:
        directory = (directory or Path(settings.REQUESTS_DIR)).resolve()
        if once:
            self._scan(directory)
            return
        stop = threading.Event()

        def on_signal(signum, frame) -> None:
            if stop.is_set():  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            stop.set()
            self.stdout.write("Stopping after the current scan (Ctrl-C again to stop at once).")

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write(
            f"Watching {directory} every {interval:g} s (files settle for {settings.REQUESTS_SETTLE_S} s). Ctrl-C stops."
        )
        try:
            while not stop.is_set():
                self._scan(directory)
                stop.wait(max(interval, 0.1))
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def _scan(self, directory: Path) -> None:
        result = request_folder_scan(directory=directory)
        for picked in result.picked:
            self.stdout.write(self._line(picked))
        if result.recovered:
            self.stdout.write(f"Finished {result.recovered} file(s) a stopped watcher left in processing/.")
        if result.waiting and self.verbosity > 1:
            self.stdout.write(f"Waiting for {', '.join(sorted(result.waiting))} to settle.")

    def _line(self, picked: Picked) -> str:
        where = f" -> {picked.moved_to}" if picked.moved_to else ""
        if picked.status == "processed":
            return self.style.SUCCESS(f"{picked.name}: mission {picked.mission_id} created{where}")
        if picked.status == "duplicate":
            return self.style.WARNING(f"{picked.name}: duplicate of mission {picked.mission_id}'s request{where}")
        return self.style.ERROR(f"{picked.name}: failed ({picked.code}): {picked.error}{where}")
