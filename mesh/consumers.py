"""/ws/console/: every event, live, for operators (staff only)."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from mesh.relay import ensure_relay
from mesh.services import CONSOLE_GROUP


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    """Send ``{"type": "event", "event": {...}}`` for every event; refuse anyone who is not staff."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=4403)
            return
        ensure_relay()
        await self.channel_layer.group_add(CONSOLE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(CONSOLE_GROUP, self.channel_name)

    async def mesh_event(self, message: dict) -> None:
        await self.send_json({"type": "event", "event": message["event"]})

    async def receive_json(self, content, **kwargs) -> None:
        return None
