"""What ``mesh.publish`` asks of webhooks: is this topic wanted, and if so queue the fan-out after commit.

Publishing stays cheap when nothing is subscribed: the active subscriptions' patterns are read once per
``DREAMNET_MESH_WEBHOOK_CACHE_MS`` per process and matched in memory, so most publishes make no query and queue
nothing. The delivery rows and the HTTP requests are made by Django-Q2 tasks, never by the publisher.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from django.conf import settings

from mesh.webhooks.topics import compile_patterns

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_memo: tuple[float, re.Pattern[str] | None] | None = None


def subscriptions_changed() -> None:
    """Forget the cached patterns in this process (other processes follow within the cache interval)."""
    global _memo
    with _lock:
        _memo = None


def _active_patterns() -> re.Pattern[str] | None:
    global _memo
    now = time.monotonic()
    with _lock:
        memo = _memo
    if memo is not None and memo[0] > now:
        return memo[1]
    from mesh.models import WebhookSubscription

    rows = WebhookSubscription.objects.filter(state=WebhookSubscription.State.ACTIVE).values_list("topics", flat=True)
    compiled = compile_patterns(p for topics in rows for p in topics)
    with _lock:
        _memo = (now + settings.MESH_WEBHOOK_CACHE_S, compiled)
    return compiled


def topic_wanted(topic: str) -> bool:
    """Return whether an active subscription's pattern matches ``topic`` (patterns cached briefly)."""
    compiled = _active_patterns()
    return compiled is not None and compiled.fullmatch(topic) is not None


def fanout_queue(event_id: int) -> None:
    """Queue the task that creates and sends this event's deliveries (call from ``transaction.on_commit``)."""
    from django_q.tasks import async_task

    async_task("mesh.tasks.webhook_fanout_task", event_id, group="webhooks")
