"""Websocket routes; every one lives under /ws/."""

from __future__ import annotations

from django.urls import path

from computejobs.consumers import LoomChatConsumer
from dreamnet.consumers import StatusConsumer
from mesh.consumers import ConsoleConsumer
from mesh.sync.links import SyncConsumer
from treasury.consumers import TreasuryConsumer

websocket_urlpatterns = [
    path("ws/status/", StatusConsumer.as_asgi()),
    path("ws/console/", ConsoleConsumer.as_asgi()),
    path("ws/treasury/", TreasuryConsumer.as_asgi()),
    path("ws/mesh/sync/", SyncConsumer.as_asgi()),
    path("ws/loom/", LoomChatConsumer.as_asgi()),
]
