"""Django-Q2 entry points for the mesh."""

from __future__ import annotations

import time

from django.conf import settings

from dreamnet.schedules import schedule_daily, schedule_every_minute
from mesh.log import checkpoint_sign

SCHEDULE_NAME = "mesh: sign checkpoint"
PEERS_SCHEDULE = "mesh: peer heartbeats"
WEBHOOKS_SCHEDULE = "mesh: webhook retries"
GC_SCHEDULE = "mesh: chunk store gc"
GC_HOUR_UTC = 4  # the daily chunk store gc runs at 04:00 UTC


def checkpoint_task() -> int | None:
    """Sign a checkpoint if entries are uncovered (safety net behind the in-process one-second cadence)."""
    checkpoint = checkpoint_sign(force=True)
    return checkpoint.size if checkpoint else None


def schedule_ensure() -> None:
    schedule_every_minute(SCHEDULE_NAME, "mesh.tasks.checkpoint_task")
    schedule_every_minute(PEERS_SCHEDULE, "mesh.tasks.peers_heartbeat_task")
    schedule_every_minute(WEBHOOKS_SCHEDULE, "mesh.tasks.webhooks_retry_task")
    schedule_daily(GC_SCHEDULE, "mesh.tasks.chunks_gc_task", hour=GC_HOUR_UTC)


def chunks_gc_task() -> dict:
    """Collect the chunk store's garbage (docs/sync.md, "Garbage collection"); return what it did."""
    from mesh.sync.gc import chunks_gc

    return chunks_gc().as_dict()


def peers_heartbeat_task(duration_s: float = 55.0) -> int:
    """Heartbeat every peer each DREAMNET_MESH_PEER_HEARTBEAT_S for about a minute; return the rounds run.

    Django-Q2 schedules run at most once a minute and heartbeats are due every 10 s, so the task loops and the
    schedule starts the next run. With no peer to contact (none, or all quarantined) it returns at once and holds
    no worker.
    """
    from mesh.models import Peer
    from mesh.peers.services import peers_heartbeat_round, peers_history_prune

    peers_history_prune()
    rounds = 0
    deadline = time.monotonic() + duration_s
    while Peer.objects.exclude(state=Peer.State.QUARANTINED).exists():
        started = time.monotonic()
        peers_heartbeat_round()
        rounds += 1
        wait = settings.MESH_PEER_HEARTBEAT_S - (time.monotonic() - started)
        if time.monotonic() + max(wait, 0) + 1 > deadline:
            break
        time.sleep(max(wait, 0))
    return rounds


def peer_heartbeat_task(peer_id: int) -> str | None:
    """Heartbeat one peer now (queued to confirm a pushed proof that failed); return the result."""
    from mesh.models import Peer
    from mesh.peers.services import peer_heartbeat

    peer = Peer.objects.filter(pk=peer_id).first()
    return peer_heartbeat(peer=peer).result if peer is not None else None


def webhook_fanout_task(event_id: int) -> int:
    """Create the deliveries an event owes and queue each one; return how many."""
    from mesh.webhooks.services import webhook_fanout

    return len(webhook_fanout(event_id=event_id))


def webhook_deliver_task(delivery_id: int) -> str | None:
    """Attempt one delivery (skipped if another attempt holds it or it is not due); return its status."""
    from mesh.models import WebhookDelivery
    from mesh.webhooks.services import webhook_attempt

    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return None
    return webhook_attempt(delivery=delivery).status


def webhooks_retry_task() -> int:
    """Queue every pending delivery whose next attempt is due (the retry backoff's clock); return how many."""
    from mesh.webhooks.services import webhooks_retry_due

    return webhooks_retry_due()
