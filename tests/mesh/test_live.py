"""Events published in another process reach websocket clients: via Redis, or via the web process's relay."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from dreamnet.asgi import application
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
PUBLISH = "import django; django.setup(); import mesh; mesh.publish('{topic}', {{'from': 'worker'}})"


@pytest.fixture(autouse=True)
async def _close_consumer_connections():
    yield
    await database_sync_to_async(connections.close_all)()


async def _publish_elsewhere(topic: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PUBLISH.format(topic=topic), cwd=ROOT, env=subprocess_env()
    )
    assert await asyncio.wait_for(proc.wait(), timeout=60) == 0


async def _next_event(communicator: WebsocketCommunicator) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=10)
        if message["type"] == "event":
            return message["event"]


async def test_a_public_event_from_a_worker_reaches_the_status_stream():
    communicator = WebsocketCommunicator(application, "/ws/status/")
    assert (await communicator.connect(timeout=5))[0]
    await communicator.receive_json_from(timeout=10)  # first health snapshot; the relay is running now
    await asyncio.sleep(0.3)
    await _publish_elsewhere("status.ping")
    event = await _next_event(communicator)
    assert event["topic"] == "status.ping"
    assert event["payload"] == {"from": "worker"}
    assert event["seq"] == 0
    await communicator.disconnect()


async def test_the_console_stream_is_staff_only_and_gets_every_event(olivia, alice):
    from mesh.consumers import ConsoleConsumer  # mounted bare so the test can set scope["user"]

    refused = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    refused.scope["user"] = alice
    connected, code = await refused.connect(timeout=5)
    assert not connected
    assert code == 4403

    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = olivia
    assert (await communicator.connect(timeout=5))[0]
    await asyncio.sleep(0.3)
    await _publish_elsewhere("order.paid")  # private topic: console only
    event = await _next_event(communicator)
    assert event["topic"] == "order.paid"
    assert event["public"] is False
    await communicator.disconnect()
