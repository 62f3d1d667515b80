"""Websocket consumers: /ws/status/ streams health snapshots and status-group events.

The snapshot is computed once per STATUS_PUSH_INTERVAL_S per process, by one broadcaster, and written to this
process's status clients already encoded as JSON; no client runs probes or queries of its own. An event reaches
every client through one send to the ``status`` group (mesh.services.fan_out, or mesh.relay without Redis), which
holds one channel per process, not one per client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from dreamnet.health import health_current
from dreamnet.stats import stats_snapshot

logger = logging.getLogger(__name__)
STATUS_GROUP = "status"


class _Broadcaster:
    """This process's status fan-out, one per process and event loop, running while it has clients.

    One channel joins the ``status`` group for the whole process, so an event costs one channel-layer message per
    process (not one per client), encoded once; the listener writes it to every local client. The snapshot loop
    computes the health snapshot and the stats strip once per STATUS_PUSH_INTERVAL_S, encodes them once, keeps
    them for clients that connect in between, and writes them to every local client.
    """

    def __init__(self) -> None:
        self.clients: set[StatusConsumer] = set()
        self.latest: dict[str, str] | None = None  # {"health": text, "stats": text}
        self.ready: asyncio.Event | None = None
        self.tasks: list[asyncio.Task] = []
        self.channel: str | None = None

    async def join(self, consumer: StatusConsumer) -> None:
        loop = asyncio.get_running_loop()
        self.clients.add(consumer)
        if not self.tasks or any(t.done() for t in self.tasks) or self.tasks[0].get_loop() is not loop:
            for task in self.tasks:
                task.cancel()
            self.latest, self.ready = None, asyncio.Event()
            self.tasks = [loop.create_task(self._listen(self.ready))]
        await asyncio.wait_for(self.ready.wait(), timeout=10)  # the channel layer answers, or the connect fails
        if self.latest is not None:  # else the snapshot loop's first round reaches this client
            await self._send_snapshot(consumer, self.latest)

    def leave(self, consumer: StatusConsumer) -> None:
        self.clients.discard(consumer)
        if not self.clients:
            for task in self.tasks:
                task.cancel()
            self.tasks = []

    async def _listen(self, ready: asyncio.Event) -> None:
        layer = get_channel_layer()
        # The default prefix: channels_redis reads every process-local channel of a layer from one shared key, and
        # one with another prefix would starve the consumers' own channels.
        channel = await layer.new_channel()
        await layer.group_add(STATUS_GROUP, channel)
        self.channel = channel
        snapshots = asyncio.get_running_loop().create_task(self._snapshots(layer, channel))
        self.tasks.append(snapshots)
        ready.set()
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("type") != "status.event":
                    continue
                text = message.get("text")  # encoded once by the sender (mesh.services.status_message)
                if text is None:
                    text = json.dumps({"type": "event", "event": message["event"]})
                for consumer in list(self.clients):
                    await _send(consumer, text)
        finally:
            snapshots.cancel()
            with contextlib.suppress(Exception):
                await layer.group_discard(STATUS_GROUP, channel)

    async def _snapshots(self, layer, channel: str) -> None:
        while True:
            try:
                self.latest = await database_sync_to_async(_encoded_snapshot)()
                for consumer in list(self.clients):
                    await self._send_snapshot(consumer, self.latest)
                await layer.group_add(STATUS_GROUP, channel)  # renew the membership before the layer's expiry
            except Exception:
                logger.exception("Status snapshot failed; retrying")
            await asyncio.sleep(settings.STATUS_PUSH_INTERVAL_S)

    @staticmethod
    async def _send_snapshot(consumer: StatusConsumer, latest: dict[str, str]) -> None:
        await _send(consumer, latest["health"])
        await _send(consumer, latest["stats"])


async def _send(consumer: StatusConsumer, text: str) -> None:
    try:
        await consumer.send(text_data=text)
    except Exception:  # a client that went away mid-send; its disconnect removes it
        logger.debug("status client send failed", exc_info=True)


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
    ``{"type": "status.event", "event": {...}}`` (through this process's broadcaster). Read-only: messages from the
    client are ignored."""

    groups: list[str] = []

    async def connect(self) -> None:
        from mesh.relay import ensure_relay

        ensure_relay()
        await self.accept()
        self._joined = True
        await broadcaster.join(self)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "_joined", False):
            broadcaster.leave(self)
            self._joined = False

    async def receive_json(self, content, **kwargs) -> None:
        return None
