"""Health probes: real round trips to each part DreamNet depends on.

A probe is a function that returns a short detail string or raises ``ProbeFailed`` (any other exception
counts as a failure too, with its message as the detail). Required probes decide whether the node is
``down`` (HTTP 503 from /api/health); optional ones only make it ``degraded``. Apps register their own
probes with ``@probe(...)`` in their ``ready()``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.utils import timezone

logger = logging.getLogger(__name__)


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

# The snapshot served by /api/health, the status page and /ws/status/: one probe round per process per
# HEALTH_MAX_AGE_S, not one per request or client (a probe round is a few ms of real round trips).
_LATEST_LOCK = threading.Lock()
_LATEST: list[tuple[float, dict] | None] = [None]  # (monotonic time the round finished, snapshot)


def health_cache_clear(**_kwargs) -> None:
    """Forget the latest snapshot (a probe was registered, a setting changed): the next read probes."""
    _LATEST[0] = None


setting_changed.connect(health_cache_clear, dispatch_uid="dreamnet.health.cache_clear")


def probe(name: str, *, required: bool) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register ``check`` as the probe ``name`` (re-registering replaces it)."""

    def register(check: Callable[[], str]) -> Callable[[], str]:
        _PROBES[name] = _Probe(name=name, check=check, required=required)
        health_cache_clear()
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


def health_snapshot(*, record: bool = True) -> dict:
    """Run every probe and return the snapshot served by /api/health and pushed on /ws/status/.

    ``status`` is ``down`` when a required probe failed, ``degraded`` when only optional ones did. With
    ``record`` the round is kept for the coherence view (``health_record``: at most one a DREAMNET_HEALTH_SAMPLE_S).
    """
    results = [_run(p) for p in _PROBES.values()]
    if any(not r.ok and r.required for r in results):
        status = "down"
    elif any(not r.ok for r in results):
        status = "degraded"
    else:
        status = "ok"
    snapshot = {
        "status": status,
        "checked_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "environment": settings.DREAMNET_ENV,
        "probes": [asdict(r) for r in results],
    }
    if record:
        health_record(snapshot)
    return snapshot


def health_current(*, max_age_s: float | None = None) -> dict:
    """Return this process's latest snapshot when it is at most ``max_age_s`` old (DREAMNET_HEALTH_MAX_AGE_MS,
    1 s by default), else probe now; ``age_s`` says how old the returned round is.

    One caller probes at a time; the others wait for its round rather than run their own.
    """
    max_age = settings.HEALTH_MAX_AGE_S if max_age_s is None else max_age_s
    with _LATEST_LOCK:
        latest = _LATEST[0]
        if latest is None or time.monotonic() - latest[0] > max_age:
            snapshot = health_snapshot()
            latest = (time.monotonic(), snapshot)
            _LATEST[0] = latest
    return {**latest[1], "age_s": round(max(0.0, time.monotonic() - latest[0]), 3)}


SAMPLED_KEY = "dreamnet:health:sampled"
# Rounds that could not be stored (the database was the part that failed) wait here and are written with the next
# round that can be: without them a database outage would be missing from its own history.
_PENDING: deque[tuple[datetime, str, dict]] = deque(maxlen=720)
_PENDING_LOCK = threading.Lock()


_LOCAL_CLAIM = [0.0]  # monotonic time of this process's last claim, used while the cache cannot answer


def _claim_sample() -> bool:
    """Claim this sample interval for the caller; through the cache (all processes), or this process alone when
    the cache is down (Redis failing is something the probes report, not a reason for /api/health to fail)."""
    try:
        return bool(cache.add(SAMPLED_KEY, 1, timeout=settings.HEALTH_SAMPLE_S))
    except Exception as exc:  # the cache backend's own errors (redis.ConnectionError, OSError, ...)
        logger.warning("health sample throttle falls back to this process: %s", exc)
        now = time.monotonic()
        with _PENDING_LOCK:
            if now - _LOCAL_CLAIM[0] < settings.HEALTH_SAMPLE_S:
                return False
            _LOCAL_CLAIM[0] = now
        return True


def health_record(snapshot: dict, *, force: bool = False) -> bool:
    """Store ``snapshot``'s round as a ``HealthSample``; return whether it was stored (or queued to be).

    At most one round per DREAMNET_HEALTH_SAMPLE_S across processes (claimed through the cache with ``add``), unless
    ``force``. Rows older than DREAMNET_HEALTH_HISTORY_H hours are deleted in the same call. When the database
    refuses the write, the round is queued in this process (up to 720) and written with the next one that succeeds.
    """
    from dreamnet.models import HealthSample

    if not force and not _claim_sample():
        return False
    checked_at = datetime.fromisoformat(snapshot["checked_at"])
    results = {p["name"]: [bool(p["ok"]), float(p["latency_ms"])] for p in snapshot["probes"]}
    with _PENDING_LOCK:
        _PENDING.append((checked_at, snapshot["status"], results))
        rows = list(_PENDING)
        try:
            HealthSample.objects.bulk_create(
                [HealthSample(checked_at=at, status=status, results=res) for at, status, res in rows]
            )
            HealthSample.objects.filter(
                checked_at__lt=timezone.now() - timedelta(hours=settings.HEALTH_HISTORY_H)
            ).delete()
        except DatabaseError as exc:
            logger.warning("health round kept in memory (%d waiting): %s", len(rows), exc)
            return True
        _PENDING.clear()
    return True


def coherence_view(*, window_s: int | None = None, now: datetime | None = None) -> dict:
    """Return the coherence object of the stored rounds in the last ``window_s`` seconds (the newest 5000 at most).

    ``matrix`` etc. are None while the window holds no round; ``reading`` then says so.
    """
    from dreamnet.coherence import SERVICES, coherence_matrix
    from dreamnet.models import HealthSample

    window_s = window_s or settings.HEALTH_WINDOW_S
    end = now or timezone.now()
    start = end - timedelta(seconds=window_s)
    rows = list(
        HealthSample.objects.filter(checked_at__gte=start, checked_at__lte=end)
        .order_by("-checked_at")
        .values_list("checked_at", "results")[:5000]
    )
    rows.reverse()
    rounds = [{name: (bool(v[0]), float(v[1])) for name, v in results.items()} for _, results in rows]
    result = coherence_matrix(rounds, services=SERVICES)
    window = {
        "seconds": window_s,
        "start": start.isoformat(timespec="seconds"),
        "end": end.isoformat(timespec="seconds"),
        "rounds": len(rounds),
        "first": rows[0][0].isoformat(timespec="seconds") if rows else None,
        "last": rows[-1][0].isoformat(timespec="seconds") if rows else None,
    }
    if result is None:
        return {
            "services": list(SERVICES),
            "matrix": None,
            "healthy_share": None,
            "purity": None,
            "entropy": None,
            "eigenvalues": None,
            "pairs": [],
            "window": window,
            "reading": "no probe rounds stored in the window yet",
            "source": "measured",
        }
    return {
        "services": list(result.services),
        "matrix": result.matrix,
        "healthy_share": result.healthy_share,
        "purity": result.purity,
        "entropy": result.entropy,
        "eigenvalues": result.eigenvalues,
        "pairs": result.pairs,
        "window": window,
        "reading": result.reading,
        "source": "measured",
    }


def health_record_task() -> bool:
    """Django-Q2 schedule (every minute): probe and store one round, whatever the throttle says."""
    return health_record(health_snapshot(record=False), force=True)
