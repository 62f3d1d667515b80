"""Set up the node and run the web server and a task cluster together in the foreground.

``python manage.py serve`` migrates, runs each app's ``serve_setup`` (demo data, node identity, ...),
ensures an operator account, then starts daphne, a Django-Q2 cluster and the sync loop (``manage.py sync``,
docs/sync.md) as child processes. Ctrl-C or SIGTERM stops them all; if a child dies on its own, the others are
stopped and the command exits non-zero.
Each child runs in its own process group so the cluster's forked workers are stopped with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

STOP_GRACE_S = 20


class Command(BaseCommand):
    help = "Migrate, set up, and run daphne (HTTP + websockets) with a Django-Q2 cluster until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind (default 8000).")
        parser.add_argument("--no-cluster", action="store_true", help="Run only the web server.")
        parser.add_argument("--no-sync", action="store_true", help="Do not run the sync loop (joined portals).")

    def handle(self, *args, host: str, port: int, no_cluster: bool, no_sync: bool = False, **options) -> None:
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port (1-65535).")
        self._setup()
        children = self._start(host=host, port=port, cluster=not no_cluster, sync=not no_sync)
        self.stdout.write(self.style.SUCCESS(f"DreamNet is up at http://{host}:{port}/"))
        for label, url in [
            ("status", "/status"),
            ("console", "/console/"),
            ("admin", "/admin/"),
            ("API docs", "/api/docs"),
        ]:
            self.stdout.write(f"  {label:<9} http://{host}:{port}{url}")
        self.stdout.write("Press Ctrl-C to stop.")
        code = self._supervise(children)
        if code:
            raise CommandError(code)

    def _setup(self) -> None:
        call_command("setup", stdout=self.stdout)

    def _start(self, *, host: str, port: int, cluster: bool, sync: bool = True) -> dict[str, subprocess.Popen]:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        commands = {
            "web": [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "dreamnet.asgi:application"],
        }
        if cluster:
            commands["cluster"] = [sys.executable, manage, "qcluster"]
        if sync:  # the sync loop: keeps joined portals connected (docs/sync.md)
            commands["sync"] = [sys.executable, manage, "sync"]
        children = {}
        for name, argv in commands.items():
            children[name] = subprocess.Popen(argv, cwd=settings.BASE_DIR, start_new_session=True)
            self.stdout.write(f"Started {name} (pid {children[name].pid}).")
        return children

    def _supervise(self, children: dict[str, subprocess.Popen]) -> str:
        """Wait until a signal or a child's exit; stop every child; return an error message or ''."""
        stop_signal: list[int] = []

        def on_signal(signum, frame) -> None:
            stop_signal.append(signum)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            died = None
            while not stop_signal and died is None:
                died = next((name for name, p in children.items() if p.poll() is not None), None)
                time.sleep(0.2)
            self._stop(children)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        if died is not None:
            return f"The {died} process exited with code {children[died].returncode}; stopped the rest."
        self.stdout.write("Stopped.")
        return ""

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        # SIGTERM goes to each child alone: the cluster stops its own workers in order, and workers that
        # received the signal themselves would be restarted by its sentinel while it shuts down.
        for p in children.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for p in children.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)
                p.wait()
        # The cluster's forked workers share its process group; make sure none outlives it.
        for p in children.values():
            _signal_group(p, signal.SIGKILL)


def _signal_group(p: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signum)
