"""Websocket routes; every one lives under /ws/."""

from __future__ import annotations

from django.urls import path

from dreamnet.consumers import StatusConsumer

websocket_urlpatterns = [
    path("ws/status/", StatusConsumer.as_asgi()),
]
