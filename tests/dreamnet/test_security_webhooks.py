"""Webhook SSRF: with private targets disallowed (the production default) a subscription cannot point at
loopback, private or link-local (cloud metadata) addresses, and a name that resolves to one is refused at
every send. Redirects, timeouts and the response cap are covered in tests/mesh/test_webhooks.py."""

from __future__ import annotations

import pytest

import mesh
from mesh.models import Event, WebhookDelivery
from mesh.peers import http
from mesh.webhooks.hook import subscriptions_changed
from mesh.webhooks.services import WebhookError, webhook_attempt, webhook_create, webhook_fanout
from tests.mesh.test_webhooks import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_pattern_cache():
    subscriptions_changed()
    yield
    subscriptions_changed()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_a_private_target_is_refused_when_private_targets_are_off(settings, url):
    settings.MESH_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(WebhookError) as raised:
        webhook_create(name="x", url=url, topics=["*"])
    assert raised.value.code == "private_url"


def test_a_public_target_is_accepted(settings):
    settings.MESH_WEBHOOK_ALLOW_PRIVATE = False
    assert webhook_create(name="x", url="https://hooks.example.com/dreamnet", topics=["*"]).pk


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(settings, django_capture_on_commit_callbacks):
    receiver = Receiver()
    try:
        url = receiver.url.replace("127.0.0.1", "localhost")  # a name, so only the send-time check sees it
        subscription = webhook_create(name="n8n", url=url, topics=["order.*"])
        receiver.secret = subscription.secret
        settings.MESH_WEBHOOK_ALLOW_PRIVATE = False
        with django_capture_on_commit_callbacks(execute=False):
            mesh.publish("order.created", {"number": "PSD-1"})
        (delivery,) = webhook_fanout(event_id=Event.objects.get(topic="order.created").pk)
        delivery = webhook_attempt(delivery=delivery)
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert "is not a public address" in delivery.last_error
        assert receiver.requests == []
    finally:
        receiver.close()


def test_the_address_check_sees_through_names_and_literals():
    assert http.non_public_address("localhost") in ("127.0.0.1", "::1")
    assert http.non_public_address("192.168.1.20") == "192.168.1.20"
    assert http.non_public_address("8.8.8.8") is None
    with pytest.raises(http.Unreachable):
        http.request("GET", "http://127.0.0.1:9/", timeout=1, allow_private=False)
