"""``manage.py sync``: the sync loop. Dials the opener of every open joined portal and keeps each session up.

``serve`` starts it beside the web server; run it alone when the web process runs elsewhere. The opener side of a
portal needs no loop: its web process answers on /ws/mesh/sync/.
"""

from __future__ import annotations

import asyncio
import contextlib

from django.core.management.base import BaseCommand, CommandParser

from mesh.sync.links import sync_loop


class Command(BaseCommand):
    help = "Run the sync loop: keep every joined portal connected to its opener (Ctrl-C to stop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--poll", type=float, default=2.0, help="Seconds between looks for new portals.")

    def handle(self, *args, poll: float, **options) -> None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sync_loop(poll_s=max(0.2, poll)))
