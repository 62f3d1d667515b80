"""Cross-process fan-out without Redis: the web process relays new Event rows to its own channel layer.

With the in-memory channel layer, an event committed by a worker process cannot reach this process's
websocket groups directly, so one asyncio task per web process polls for rows past the last index it saw
(every MESH_RELAY_POLL_S, 250 ms by default) and sends them to the groups. It starts with the first websocket
client. With Redis, publishers send to the groups themselves and no relay runs.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from mesh.models import Event
from mesh.services import CONSOLE_GROUP, STATUS_GROUP, event_message, status_message

logger = logging.getLogger(__name__)
_task: asyncio.Task | None = None


def relay_needed() -> bool:
    return not settings.REDIS_URL


def ensure_relay() -> None:
    """Start the relay in the running event loop unless it runs already (call from async code)."""
    global _task
    if not relay_needed():
        return
    loop = asyncio.get_running_loop()
    if _task is not None and not _task.done() and _task.get_loop() is loop:
        return
    _task = loop.create_task(_relay())


@database_sync_to_async
def _last_index() -> int:
    return Event.objects.aggregate(last=Max("log_index"))["last"] or -1


@database_sync_to_async
def _events_after(after: int) -> list[dict]:
    return [event_message(e) for e in Event.objects.filter(log_index__gt=after).order_by("log_index")[:500]]


async def _relay() -> None:
    layer = get_channel_layer()
    last = await _last_index()
    while True:
        try:
            for message in await _events_after(last):
                await layer.group_send(CONSOLE_GROUP, {"type": "mesh.event", "event": message})
                if message["public"]:
                    await layer.group_send(STATUS_GROUP, status_message(message))
                last = message["seq"]
        except Exception:
            logger.exception("Event relay failed; retrying")
        await asyncio.sleep(settings.MESH_RELAY_POLL_S)
