"""Adapters from websockets to the channel's ``send(bytes)`` / ``recv() -> bytes | None`` pair.

``websocket_transport`` wraps a ``websockets`` connection (the client side: a node dialling a peer's
``/ws/mesh/sync/``, or a ``websockets`` server in tests). ``QueueTransport`` serves a Channels
``AsyncWebsocketConsumer``, whose frames arrive by callback: the consumer feeds them in and the session reads
them from a bounded queue (a full queue holds up the consumer's receive loop, which is the back-pressure)::

    class SyncConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.accept()
            self.transport = QueueTransport(lambda data: self.send(bytes_data=data))
            self.task = asyncio.create_task(self.serve())  # accept(self.transport.send, self.transport.recv, ...)

        async def receive(self, text_data=None, bytes_data=None):
            await self.transport.feed(bytes_data if bytes_data is not None else text_data)

        async def disconnect(self, code):
            self.transport.feed_eof()

No Django import here either; the consumer itself lives with the Portals code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from websockets.exceptions import ConnectionClosed

from mesh.sync.channel import Recv, Send


def websocket_transport(ws) -> tuple[Send, Recv]:
    """Return ``(send, recv)`` over a ``websockets`` connection; a closed connection reads as end of stream.

    A text frame is passed through as ``str``: the channel rejects it as ``tampered``.
    """

    async def send(data: bytes) -> None:
        await ws.send(data)

    async def recv() -> bytes | None:
        try:
            return await ws.recv()
        except ConnectionClosed:
            return None

    return send, recv


class QueueTransport:
    """A queue between a callback-driven websocket consumer and a channel session."""

    def __init__(self, send: Callable[[bytes], Awaitable[object]], *, max_queued: int = 64) -> None:
        self._send = send
        self._queue: asyncio.Queue[bytes | str | None] = asyncio.Queue(max_queued)
        self._eof = False

    async def send(self, data: bytes) -> None:
        await self._send(data)

    async def recv(self) -> bytes | str | None:
        """Return the next frame, or ``None`` once the connection has ended and every frame was read."""
        if self._eof and self._queue.empty():
            return None
        return await self._queue.get()

    async def feed(self, data: bytes | str) -> None:
        """Queue a frame from the websocket; waits while the queue is full. Frames after the end are dropped."""
        if not self._eof:
            await self._queue.put(data)

    def feed_eof(self) -> None:
        """Mark the end of the connection; ``recv`` returns ``None`` after the queued frames."""
        self._eof = True
        if not self._queue.full():
            self._queue.put_nowait(None)
