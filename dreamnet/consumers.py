"""Websocket consumers: /ws/status/ streams health snapshots and status-group events.

The snapshot is computed once per STATUS_PUSH_INTERVAL_S per process, by one broadcaster task, and sent to a
group of this process's status clients already encoded as JSON; no client runs probes or queries of its own. Events
reach every client through one send to the ``status`` group (mesh.services.fan_out, or mesh.relay without Redis).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from dreamnet.health import health_current
from dreamnet.stats import stats_snapshot

logger = logging.getLogger(__name__)
STATUS_GROUP = "status"
# This process's status clients: the snapshot is computed here and must not reach other processes' clients
# (they have their own broadcaster) through a shared Redis layer.
SNAPSHOT_GROUP = f"status.snapshot.{secrets.token_hex(6)}"


class _Broadcaster:
    """One task per process and event loop: compute the snapshot, keep it for new clients, send it to the group."""

    def __init__(self) -> None:
        self.task: asyncio.Task | None = None
        self.clients = 0
        self.latest: dict[str, str] | None = None  # {"health": text, "stats": text}, encoded once

    def join(self) -> None:
        self.clients += 1
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.latest = None
            self.task = loop.create_task(self._run())

    def leave(self) -> None:
        self.clients = max(0, self.clients - 1)

    async def _run(self) -> None:
        layer = get_channel_layer()
        while self.clients > 0:
            try:
                self.latest = await database_sync_to_async(_encoded_snapshot)()
                await layer.group_send(SNAPSHOT_GROUP, {"type": "status.snapshot", **self.latest})
            except Exception:
                logger.exception("Status snapshot failed; retrying")
            await asyncio.sleep(settings.STATUS_PUSH_INTERVAL_S)


def _encoded_snapshot() -> dict[str, str]:
    return {
        "health": json.dumps({"type": "health", "health": health_current()}),
        "stats": json.dumps({"type": "stats", "stats": stats_snapshot()}),
    }


broadcaster = _Broadcaster()


class StatusConsumer(AsyncJsonWebsocketConsumer):
    """Send ``{"type": "health", "health": {...}}`` and ``{"type": "stats", "stats": [...]}`` on connect and every
    STATUS_PUSH_INTERVAL_S, and
    ``{"type": "event", "event": {...}}`` for each message sent to the ``status`` group with
    ``{"type": "status.event", "event": {...}}``. Read-only: messages from the client are ignored."""

    async def connect(self) -> None:
        from mesh.relay import ensure_relay

        ensure_relay()
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.channel_layer.group_add(SNAPSHOT_GROUP, self.channel_name)
        await self.accept()
        self._joined = True
        broadcaster.join()
        latest = broadcaster.latest
        if latest is not None:  # else the broadcaster's first round reaches this client through the group
            await self.status_snapshot(latest)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_joined", False):
            broadcaster.leave()
            self._joined = False
        await self.channel_layer.group_discard(SNAPSHOT_GROUP, self.channel_name)
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def status_snapshot(self, message: dict) -> None:
        await self.send(text_data=message["health"])
        await self.send(text_data=message["stats"])

    async def status_event(self, message: dict) -> None:
        text = message.get("text")  # encoded once by the sender (mesh.services.status_message)
        if text is None:
            text = json.dumps({"type": "event", "event": message["event"]})
        await self.send(text_data=text)

    async def receive_json(self, content, **kwargs) -> None:
        return None
