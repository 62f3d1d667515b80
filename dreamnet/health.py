"""Health probes: real round trips to each part DreamNet depends on.

A probe is a function that returns a short detail string or raises ``ProbeFailed`` (any other exception
counts as a failure too, with its message as the detail). Required probes decide whether the node is
``down`` (HTTP 503 from /api/health); optional ones only make it ``degraded``. Apps register their own
probes with ``@probe(...)`` in their ``ready()``.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone


class ProbeFailed(Exception):
    """The probed part answered, but not well enough; the message says what is wrong."""


@dataclass(frozen=True)
class ProbeResult:
    name: str
    ok: bool
    required: bool
    latency_ms: float
    detail: str


@dataclass(frozen=True)
class _Probe:
    name: str
    check: Callable[[], str]
    required: bool


_PROBES: dict[str, _Probe] = {}


def probe(name: str, *, required: bool) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register ``check`` as the probe ``name`` (re-registering replaces it)."""

    def register(check: Callable[[], str]) -> Callable[[], str]:
        _PROBES[name] = _Probe(name=name, check=check, required=required)
        return check

    return register


@probe("database", required=True)
def probe_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    if one != 1:
        raise ProbeFailed(f"SELECT 1 returned {one!r}")
    return f"{connection.vendor} answered SELECT 1"


async def _channel_round_trip() -> str:
    layer = get_channel_layer()
    if layer is None:
        raise ProbeFailed("no channel layer is configured")
    channel = await layer.new_channel("health.")
    nonce = secrets.token_hex(8)
    await layer.send(channel, {"type": "health.ping", "nonce": nonce})
    try:
        message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)
    except TimeoutError:
        raise ProbeFailed("a message sent to the channel layer did not come back within 2 s") from None
    if message.get("nonce") != nonce:
        raise ProbeFailed("the channel layer returned a different message than was sent")
    return f"{type(layer).__name__} round trip"


@probe("channel_layer", required=True)
def probe_channel_layer() -> str:
    return async_to_sync(_channel_round_trip)()


@probe("task_cluster", required=False)
def probe_task_cluster() -> str:
    from django_q.status import Stat

    max_age = settings.HEALTH_CLUSTER_MAX_AGE_S
    now = timezone.now()
    live = [s for s in Stat.get_all() if (now - s.timestamp).total_seconds() <= max_age]
    if not live:
        raise ProbeFailed(
            f"no Django-Q2 cluster has reported in the last {max_age} s; "
            "background work waits until one runs (`python manage.py qcluster`; `make run` starts one)"
        )
    workers = sum(len(s.workers) for s in live)
    return f"{len(live)} cluster(s), {workers} worker(s)"


@probe("disk", required=True)
def probe_disk() -> str:
    usage = shutil.disk_usage(settings.DREAMNET_HOME)
    free_mb = usage.free // (1024 * 1024)
    minimum = settings.HEALTH_MIN_FREE_MB
    if free_mb < minimum:
        raise ProbeFailed(f"{free_mb} MB free in DREAMNET_HOME, below the {minimum} MB minimum")
    return f"{free_mb} MB free of {usage.total // (1024 * 1024)} MB"


def _run(p: _Probe) -> ProbeResult:
    started = time.perf_counter()
    try:
        detail, ok = p.check(), True
    except Exception as exc:  # a probe's failure is data, not an error of the health check
        detail, ok = (str(exc) or type(exc).__name__), False
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ProbeResult(name=p.name, ok=ok, required=p.required, latency_ms=latency_ms, detail=detail)


def health_snapshot() -> dict:
    """Run every probe and return the snapshot served by /api/health and pushed on /ws/status/.

    ``status`` is ``down`` when a required probe failed, ``degraded`` when only optional ones did.
    """
    results = [_run(p) for p in _PROBES.values()]
    if any(not r.ok and r.required for r in results):
        status = "down"
    elif any(not r.ok for r in results):
        status = "degraded"
    else:
        status = "ok"
    return {
        "status": status,
        "checked_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "environment": settings.DREAMNET_ENV,
        "probes": [asdict(r) for r in results],
    }
