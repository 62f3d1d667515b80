"""Websocket consumers: /ws/status/ streams health snapshots and status-group events."""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from dreamnet.health import health_snapshot
from dreamnet.stats import stats_snapshot

STATUS_GROUP = "status"


class StatusConsumer(AsyncJsonWebsocketConsumer):
    """Send ``{"type": "health", "health": {...}}`` and ``{"type": "stats", "stats": [...]}`` on connect and every
    STATUS_PUSH_INTERVAL_S, and
    ``{"type": "event", "event": {...}}`` for each message sent to the ``status`` group with
    ``{"type": "status.event", "event": {...}}``. Read-only: messages from the client are ignored."""

    async def connect(self) -> None:
        from mesh.relay import ensure_relay

        ensure_relay()
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()
        self._pusher = asyncio.create_task(self._push_health())

    async def disconnect(self, code: int) -> None:
        pusher = getattr(self, "_pusher", None)
        if pusher is not None:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def _push_health(self) -> None:
        while True:
            snapshot = await database_sync_to_async(health_snapshot)()
            await self.send_json({"type": "health", "health": snapshot})
            await self.send_json({"type": "stats", "stats": await database_sync_to_async(stats_snapshot)()})
            await asyncio.sleep(settings.STATUS_PUSH_INTERVAL_S)

    async def status_event(self, message: dict) -> None:
        await self.send_json({"type": "event", "event": message["event"]})

    async def receive_json(self, content, **kwargs) -> None:
        return None
