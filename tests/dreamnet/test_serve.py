"""`manage.py serve` sets up the node, runs web + cluster as children, and stops them cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path: Path, port: int) -> subprocess.Popen:
    # A self-contained node: its own SQLite home, no PostgreSQL or Redis even when the suite uses them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    env |= {
        "DREAMNET_HOME": str(tmp_path),
        "DREAMNET_ADMIN_PASSWORD": "serve-test-password-81",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        return json.load(exc)
    except OSError:
        return None


def _wait_for_cluster(port: int) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        health = _health(port)
        if health and health["status"] == "ok":
            return health
        time.sleep(0.5)
    pytest.fail(f"serve did not report a healthy node within {START_TIMEOUT_S} s; last: {health}")


def _child_pids(output: str) -> list[int]:
    return [int(line.split("pid ")[1].rstrip(").")) for line in output.splitlines() if line.startswith("Started ")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    proc = _start(tmp_path, port)
    yield proc, port
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_serve_runs_web_and_cluster_and_stops_on_ctrl_c(served):
    proc, port = served
    health = _wait_for_cluster(port)
    assert next(p for p in health["probes"] if p["name"] == "task_cluster")["ok"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as response:
        assert response.status == 200
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, output
    assert "Created the operator account 'operator'" in output
    pids = _child_pids(output)
    assert len(pids) == 3  # web, cluster, sync loop
    assert not any(_alive(pid) for pid in pids)
    assert "Stopped." in output


def test_serve_exits_non_zero_when_a_child_dies(served):
    proc, port = served
    _wait_for_cluster(port)
    # Kill the web child behind serve's back.
    ps = subprocess.run(["pgrep", "-f", f"daphne -b 127.0.0.1 -p {port}"], capture_output=True, text=True)
    web_pid = int(ps.stdout.split()[0])
    os.kill(web_pid, signal.SIGKILL)
    output, _ = proc.communicate(timeout=40)
    assert proc.returncode != 0
    assert "The web process exited" in output
    cluster_pid = _child_pids(output)[1]
    assert not _alive(cluster_pid)
