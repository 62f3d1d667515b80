"""/ws/status/ streams health snapshots and status-group events; browsers must come from an allowed host."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from dreamnet.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_consumer_connections():
    """Consumers query from a worker thread; close its connection so the test database can be dropped."""
    yield
    await database_sync_to_async(connections.close_all)()


async def test_it_sends_a_health_snapshot_on_connect():
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    message = await communicator.receive_json_from(timeout=10)
    assert message["type"] == "health"
    assert {p["name"] for p in message["health"]["probes"]} >= {"database", "channel_layer", "disk"}
    await communicator.disconnect()


async def test_it_relays_events_sent_to_the_status_group():
    communicator = WebsocketCommunicator(application, "/ws/status/")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.receive_json_from(timeout=10)  # the first snapshot
    event = {"seq": 7, "topic": "order.paid", "payload": {"number": "PSD-1"}}
    await get_channel_layer().group_send("status", {"type": "status.event", "event": event})
    message = await communicator.receive_json_from(timeout=5)
    while message["type"] != "event":  # the stats snapshot follows the health one
        message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "event", "event": event}
    await communicator.disconnect()


async def test_it_sends_the_stats_strip_with_each_snapshot():
    communicator = WebsocketCommunicator(application, "/ws/status/")
    assert (await communicator.connect(timeout=5))[0]
    assert (await communicator.receive_json_from(timeout=10))["type"] == "health"
    stats = await communicator.receive_json_from(timeout=10)
    assert stats["type"] == "stats"
    assert {s["name"] for s in stats["stats"]} >= {"events_sealed", "spot_gold"}
    await communicator.disconnect()


async def test_it_refuses_browsers_from_other_origins():
    communicator = WebsocketCommunicator(application, "/ws/status/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
