"""Refresh docs/screenshots/: start a throw-away node, walk the main pages in Debian's Chromium, save PNGs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

PAGES = [
    ("home", "/", False),
    ("status", "/status", False),
    ("metals", "/metals", False),
    ("product", "/metals/xau-coin-maple-1oz", False),
    ("intelligence", "/metals/intelligence", False),
    ("dreamsnail", "/dreamsnail", False),
    ("dreamstar", "/dreamstar", False),
    ("foundry", "/foundry", False),
    ("contact", "/contact", False),
    ("console", "/console/", True),
    ("console-missions", "/console/missions/", True),
    ("console-compute", "/console/compute/", True),
    ("console-mesh", "/console/mesh/", True),
    ("console-foundry", "/console/foundry/", True),
    ("console-dreamstar", "/console/dreamstar/", True),
    ("console-codegen", "/console/codegen/", True),
    ("console-requests", "/console/requests/", True),
]
PASSWORD = "screenshots-operator-password"  # noqa: S105 (a throw-away node's operator)


class Command(BaseCommand):
    help = "Start a throw-away node, take screenshots of the main pages (light and dark) into docs/screenshots/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"))
        parser.add_argument("--chromium", default="/usr/bin/chromium")
        parser.add_argument("--width", type=int, default=1280)

    def handle(self, *args, out: str, chromium: str, width: int, **options) -> None:
        if not Path(chromium).exists():
            raise CommandError(f"{chromium} is missing; install Debian's chromium (apt-get install -y chromium).")
        from playwright.sync_api import sync_playwright

        target = Path(out)
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dreamnet-shots-") as home, _node(home) as url, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            for scheme in ("light", "dark"):
                page = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme).new_page()
                signed_in = False
                for name, path, staff in PAGES:
                    if staff and not signed_in:
                        page.goto(url + "/accounts/login/")
                        page.fill("input[name=username]", "operator")
                        page.fill("input[name=password]", PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_load_state()
                        signed_in = True
                    page.goto(url + path)
                    page.wait_for_timeout(1200)  # let the live parts connect and fill in
                    file = target / f"{name}-{scheme}.png"
                    page.screenshot(path=str(file), full_page=True)
                    self.stdout.write(f"{file}")
            browser.close()


class _node:
    """A `manage.py serve` node on a free port with its own home, stopped on exit."""

    def __init__(self, home: str) -> None:
        self.home = home

    def __enter__(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
        env |= {"DREAMNET_HOME": self.home, "DREAMNET_ADMIN_PASSWORD": PASSWORD}
        self.proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=settings.BASE_DIR,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/", timeout=2)  # noqa: S310 (loopback)
                time.sleep(65)  # the task cluster's first minute: spot refresh, showcase frame, briefs
                return url
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise CommandError("The node did not start within 90 s.")

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
