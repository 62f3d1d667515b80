"""Run a workspace's command (its tests, ruff) in a child process with a time limit, memory and CPU limits, a
scrubbed environment and no network, never inside a DreamNet process.

Pure module: imports nothing from Django. No network comes from a new network namespace
(``unshare --net --map-root-user``: the child sees only a down loopback) when this machine allows it (probed
once); otherwise from a ``sitecustomize.py`` put first on PYTHONPATH that refuses every non-AF_UNIX socket
connect/bind/sendto in Python children. :func:`network_isolation` says which one is in force.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SITECUSTOMIZE = '''"""Installed by DreamNet's codegen sandbox: this process may not use the network."""
import socket

_real_socket = socket.socket


class _NoNetwork(_real_socket):
    def _refuse(self, *args, **kwargs):
        if self.family != socket.AF_UNIX:
            raise OSError("network access is disabled in the DreamNet codegen sandbox")
        return None

    def connect(self, address):
        if self.family != socket.AF_UNIX:
            self._refuse()
        return super().connect(address)

    def connect_ex(self, address):
        if self.family != socket.AF_UNIX:
            self._refuse()
        return super().connect_ex(address)

    def sendto(self, *args):
        if self.family != socket.AF_UNIX:
            self._refuse()
        return super().sendto(*args)


socket.socket = _NoNetwork
'''
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str
    timed_out: bool
    seconds: float


@functools.cache
def unshare_works() -> bool:
    """Return whether ``unshare --net --map-root-user`` runs here (probed once per process)."""
    exe = shutil.which("unshare")
    if not exe:
        return False
    try:
        done = subprocess.run([exe, "--net", "--map-root-user", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def network_isolation() -> str:
    """Return ``"netns"`` (unshare: no network interfaces at all) or ``"sitecustomize"`` (Python sockets refused)."""
    return "netns" if unshare_works() else "sitecustomize"


def _limits(memory_mb: int, cpu_s: int):
    def apply() -> None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.setsid()

    return apply


def run(argv: list[str], *, cwd: Path, timeout_s: int, memory_mb: int, cpu_s: int | None = None) -> Result:
    """Run ``argv`` in ``cwd`` under the limits; return its exit code and combined output (last 20,000 chars)."""
    import time

    home = Path(tempfile.mkdtemp(prefix="dreamnet-sandbox-home-"))
    try:
        env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
        env |= {"HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
        env["TMPDIR"] = str(home)
        if network_isolation() == "netns":
            argv = [shutil.which("unshare") or "unshare", "--net", "--map-root-user", "--", *argv]
        else:
            (home / "sitecustomize.py").write_text(SITECUSTOMIZE)
            env["PYTHONPATH"] = str(home)
        started = time.monotonic()
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=_limits(memory_mb, cpu_s or timeout_s),
        )  # fmt: skip
        try:
            output, _ = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # the child leads its own session: take its children too
            output, _ = child.communicate()
            text = output.decode(errors="replace")[-20000:]
            return Result(-9, text + f"\n[sandbox] killed after {timeout_s} s", True, float(timeout_s))
        text = output.decode(errors="replace")[-20000:]
        return Result(child.returncode, text, False, round(time.monotonic() - started, 2))
    finally:
        shutil.rmtree(home, ignore_errors=True)
