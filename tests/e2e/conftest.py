"""Browser tests: a real node (`manage.py serve`) on a free port, driven by Debian's Chromium through Playwright.

Run in their own pytest invocation (`make test` does): Playwright's event loop must not precede async tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ADMIN_PASSWORD = "e2e-operator-password-7731"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, home: Path, port: int, proc: subprocess.Popen) -> None:
        self.home, self.port, self.proc = home, port, proc
        self.url = f"http://127.0.0.1:{port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
        return env | {"DREAMNET_HOME": str(self.home), "DREAMNET_ADMIN_PASSWORD": ADMIN_PASSWORD}

    def python(self, code: str) -> None:
        """Run ``code`` with Django set up, in a separate process against this node's database."""
        script = f"import django; django.setup()\n{code}"
        subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=self.env() | {"DJANGO_SETTINGS_MODULE": "dreamnet.settings"},
            check=True, timeout=60,
        )  # fmt: skip


@pytest.fixture(scope="session")
def node(tmp_path_factory):
    home = tmp_path_factory.mktemp("node")
    port = _free_port()
    node = Node(home, port, None)
    node.proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT, env=node.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(node.url + "/", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail("the node did not start within 60 s")
    yield node
    node.proc.send_signal(signal.SIGINT)
    try:
        node.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(node.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()
