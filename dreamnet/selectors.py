"""Platform reads: task-queue statistics for the console and the ``ops`` API."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Failure, Success
from django_q.status import Stat


def queue_stats() -> dict:
    """Return queued task count, the last 24 h of outcomes and the clusters that reported recently."""
    since = timezone.now() - timedelta(hours=24)
    clusters = [
        {
            "cluster_id": str(s.cluster_id),
            "host": s.host,
            "status": str(s.status),
            "workers": len(s.workers),
            "uptime_s": round(s.uptime(), 1),
        }
        for s in Stat.get_all()
    ]
    return {
        "queued": get_broker().queue_size() or 0,
        "failed_last_24h": Failure.objects.filter(stopped__gte=since).count(),
        "succeeded_last_24h": Success.objects.filter(stopped__gte=since).count(),
        "clusters": clusters,
    }
