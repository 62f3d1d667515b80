"""/ws/treasury/: a company's treasury events, live, for its members (operators get every company's)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from commerce.selectors import membership_for
from mesh.relay import ensure_relay
from mesh.services import CONSOLE_GROUP


@database_sync_to_async
def _company_slug(user) -> str | None:
    membership = membership_for(user)
    return membership.company.slug if membership else None


class TreasuryConsumer(AsyncJsonWebsocketConsumer):
    """Send ``{"type": "event", "event": {...}}`` for each ``treasury.*`` event of the member's company.

    It listens on the console group (every event) and forwards only its company's treasury events, so nothing of
    another company, and nothing else, reaches a member's browser. Anyone signed out, or in no company and not
    staff, is refused.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.staff = bool(user.is_staff)
        self.company = await _company_slug(user)
        if self.company is None and not self.staff:
            await self.close(code=4403)
            return
        ensure_relay()
        await self.channel_layer.group_add(CONSOLE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(CONSOLE_GROUP, self.channel_name)

    async def mesh_event(self, message: dict) -> None:
        event = message["event"]
        if not str(event.get("topic", "")).startswith("treasury."):
            return
        if self.staff or (event.get("payload") or {}).get("company") == self.company:
            await self.send_json({"type": "event", "event": event})

    async def status_event(self, message: dict) -> None:
        return None

    async def receive_json(self, content, **kwargs) -> None:
        return None
