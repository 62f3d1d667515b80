"""/api/health and /ws/status/ serve one probe round per process per interval, not one per request or client."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from dreamnet import health
from dreamnet.asgi import application


@pytest.fixture
def counted_rounds(monkeypatch):
    rounds = []
    real = health.health_snapshot

    def counting(**kwargs):
        rounds.append(1)
        return real(**kwargs)

    monkeypatch.setattr(health, "health_snapshot", counting)
    health.health_cache_clear()
    return rounds


@pytest.mark.django_db
def test_health_serves_one_round_per_interval_and_says_its_age(client, settings, counted_rounds):
    settings.HEALTH_MAX_AGE_S = 60
    first = client.get("/api/health").json()
    second = client.get("/api/health").json()
    assert len(counted_rounds) == 1
    assert second["checked_at"] == first["checked_at"]
    assert 0 <= first["age_s"] <= second["age_s"] < 60
    settings.HEALTH_MAX_AGE_S = 0  # an older round than the limit is never served
    client.get("/api/health")
    client.get("/api/health")
    assert len(counted_rounds) == 3


@pytest.mark.django_db
def test_a_failing_probe_shows_once_the_round_is_stale(client, settings, counted_rounds):
    settings.HEALTH_MAX_AGE_S = 60
    assert client.get("/api/health").status_code == 200
    settings.HEALTH_MIN_FREE_MB = 10**12  # a changed setting drops the kept round
    assert client.get("/api/health").status_code == 503


@pytest.mark.django_db(transaction=True)
async def test_status_clients_share_one_probe_round_and_one_event_send(settings, counted_rounds):
    settings.HEALTH_MAX_AGE_S = 60
    settings.STATUS_PUSH_INTERVAL_S = 3600
    clients = [WebsocketCommunicator(application, "/ws/status/") for _ in range(5)]
    try:
        for communicator in clients:
            assert (await communicator.connect(timeout=5))[0]
        snapshots = []
        for communicator in clients:
            message = await communicator.receive_json_from(timeout=10)
            assert message["type"] == "health"
            assert (await communicator.receive_json_from(timeout=10))["type"] == "stats"
            snapshots.append(message["health"]["checked_at"])
        assert len(counted_rounds) == 1
        assert len(set(snapshots)) == 1
        from mesh.services import status_message

        event = {"seq": 3, "topic": "status.demo", "payload": {"n": 1}, "public": True}
        await get_channel_layer().group_send("status", status_message(event))
        for communicator in clients:
            received = await communicator.receive_from(timeout=5)
            assert json.loads(received) == {"type": "event", "event": event}
    finally:
        for communicator in clients:
            await communicator.disconnect()
        await database_sync_to_async(connections.close_all)()
