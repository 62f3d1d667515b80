"""Outbound webhooks: signed deliveries by Django-Q2 tasks after commit, wildcards, retries with backoff, pausing a
consumer that keeps failing, and the API and console that manage subscriptions."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

import mesh
from mesh.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from mesh.webhooks.hook import subscriptions_changed, topic_wanted
from mesh.webhooks.services import (
    WebhookError,
    webhook_attempt,
    webhook_backoff,
    webhook_create,
    webhook_fanout,
    webhook_resume,
    webhooks_retry_due,
)
from mesh.webhooks.signing import SignatureError, sign_header, verify_header
from mesh.webhooks.topics import check_patterns, topic_matches

pytestmark = pytest.mark.django_db


def verify_dreamnet_signature(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The verification snippet from docs/mesh.md, verbatim: the receiver below checks deliveries with it."""
    fields = [item.strip().split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in fields if key == "t"]
    signatures = [value for key, value in fields if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    if abs(time.time() - int(timestamps[0])) > tolerance_s:
        return False  # too old, or from the future: a replay
    message = timestamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


class Receiver:
    """A consumer on loopback: records each request, checks its signature, answers the next planned status."""

    def __init__(self) -> None:
        self.secret = ""
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # answered in order; 200 once exhausted
        self.location = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/dreamnet"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({
                    "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                    "verified": verify_dreamnet_signature(receiver.secret, self.headers["DreamNet-Signature"], body),
                })  # fmt: skip
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler


@pytest.fixture(autouse=True)
def _fresh_pattern_cache():
    subscriptions_changed()
    yield
    subscriptions_changed()  # no pattern read in this test's database outlives it


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def inline_tasks(monkeypatch):
    """Run what the code queues with django_q's async_task at once, in this process, and list the calls."""
    calls = []

    def run(func, *args, **kwargs):
        calls.append(func)
        return import_string(func)(*args)

    monkeypatch.setattr("django_q.tasks.async_task", run)
    return calls


@pytest.fixture
def api():
    from dreamnet.apikeys import apikey_create

    _key, raw = apikey_create(name="webhooks-test", scopes=["mesh"])
    return {"X-DREAMNET-KEY": raw}


def _subscribe(receiver: Receiver, topics: list[str] | None = None) -> WebhookSubscription:
    subscription = webhook_create(name="n8n", url=receiver.url, topics=topics or ["order.*"])
    receiver.secret = subscription.secret
    return subscription


def _publish_and_commit(topic: str, capture, payload: dict | None = None) -> Event:
    with capture(execute=True):
        return mesh.publish(topic, payload or {"number": "PSD-1"})


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# Delivery ---------------------------------------------------------------------------------------------------------


def test_a_matching_event_is_delivered_signed_by_a_task_after_commit(
    receiver, inline_tasks, django_capture_on_commit_callbacks
):
    subscription = _subscribe(receiver)
    with django_capture_on_commit_callbacks() as callbacks:
        event = mesh.publish("order.paid", {"number": "PSD-1", "total": "2450.10"})
    assert receiver.requests == [] and inline_tasks == []  # nothing leaves before the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert inline_tasks == ["mesh.tasks.webhook_fanout_task", "mesh.tasks.webhook_deliver_task"]
    [request] = receiver.requests
    assert request["verified"]
    headers = request["headers"]
    assert headers["content-type"] == "application/json" and headers["dreamnet-topic"] == "order.paid"
    assert headers["dreamnet-event"] == str(event.log_index) and headers["dreamnet-attempt"] == "1"
    body = json.loads(request["body"])
    assert body["event"]["topic"] == "order.paid" and body["event"]["payload"]["total"] == "2450.10"
    assert body["event"]["seq"] == event.log_index and body["node"]
    delivery = WebhookDelivery.objects.get(subscription=subscription, event=event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert list(delivery.attempt_log.values_list("number", "status_code")) == [(1, 200)]
    verify_header(subscription.secret, headers["dreamnet-signature"], request["body"])


def test_a_signature_fails_for_another_secret_an_edited_body_or_an_old_timestamp():
    body = b'{"event": 1}'
    header = sign_header("whsec_right", body)
    assert verify_dreamnet_signature("whsec_right", header, body)
    assert not verify_dreamnet_signature("whsec_wrong", header, body)
    assert not verify_dreamnet_signature("whsec_right", header, body + b" ")
    stale = sign_header("whsec_right", body, timestamp=int(time.time()) - 301)
    assert not verify_dreamnet_signature("whsec_right", stale, body)
    with pytest.raises(SignatureError, match="outside the 300 s tolerance"):
        verify_header("whsec_right", stale, body)
    with pytest.raises(SignatureError, match="no v1 signature matches"):
        verify_header("whsec_wrong", header, body)


def test_publishing_stays_cheap_when_nothing_matches(receiver, inline_tasks, django_capture_on_commit_callbacks):
    _subscribe(receiver, ["order.*"])
    assert topic_wanted("order.paid")  # warms this process's pattern cache
    with CaptureQueriesContext(connection) as queries:
        _publish_and_commit("price.tick", django_capture_on_commit_callbacks)
    assert not any("webhooksubscription" in q["sql"] for q in queries.captured_queries)
    assert inline_tasks == [] and receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_the_pattern_cache_expires_and_follows_changes(settings, receiver):
    settings.MESH_WEBHOOK_CACHE_S = 3600
    assert not topic_wanted("order.paid")
    WebhookSubscription.objects.create(name="behind the cache", url=receiver.url, topics=["order.*"], secret="x" * 16)
    assert not topic_wanted("order.paid")  # cached for the interval
    subscriptions_changed()
    assert topic_wanted("order.paid")
    settings.MESH_WEBHOOK_CACHE_S = 0  # no caching: every publish reads the patterns
    subscriptions_changed()
    assert topic_wanted("order.paid")
    WebhookSubscription.objects.update(state="paused")
    assert not topic_wanted("order.paid")


def test_topic_patterns_match_with_wildcards_and_bad_ones_are_refused():
    assert topic_matches("order.paid", ["order.*"]) and topic_matches("order.line.added", ["order.*"])
    assert topic_matches("mission.step.failed", ["*.failed"]) and topic_matches("anything.at_all", ["*"])
    assert not topic_matches("orders.paid", ["order.*"]) and not topic_matches("order", ["order.*"])
    assert not topic_matches("order.paid", ["order.paid.*"]) and topic_matches("order.paid", ["order.paid"])
    assert check_patterns([" order.* ", "order.*", "*"]) == ["order.*", "*"]
    for bad in [[], ["Order.*"], ["order..paid"], ["order paid"], [".order"], ["x" * 101], ["a.b"] * 1 + [1]]:
        with pytest.raises(ValueError):
            check_patterns(bad)
    with pytest.raises(ValueError, match="not one string"):
        check_patterns("order.*")


def test_only_active_matching_subscriptions_get_a_delivery(receiver, inline_tasks, django_capture_on_commit_callbacks):
    wanted = _subscribe(receiver, ["order.*"])
    webhook_create(name="other", url=receiver.url, topics=["mission.*"])
    paused = webhook_create(name="paused", url=receiver.url, topics=["*"])
    WebhookSubscription.objects.filter(pk=paused.pk).update(state="paused")
    subscriptions_changed()
    _publish_and_commit("order.shipped", django_capture_on_commit_callbacks)
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [wanted.pk]
    assert len(receiver.requests) == 1


# Retries and pausing ------------------------------------------------------------------------------------------------


def test_failures_retry_with_exponential_backoff_and_every_attempt_is_logged(
    receiver, inline_tasks, django_capture_on_commit_callbacks, settings
):
    subscription = _subscribe(receiver)
    receiver.statuses = [500, 503, 502]
    _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    for attempt, status in enumerate([500, 503, 502], 1):
        delivery.refresh_from_db()
        last = delivery.attempt_log.get(number=attempt)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", attempt, f"HTTP {status}")
        wait = (delivery.next_attempt_at - last.started_at).total_seconds()
        assert wait == pytest.approx(settings.MESH_WEBHOOK_RETRY_BASE_S * 2 ** (attempt - 1), abs=2)
        assert webhooks_retry_due() == 0  # not due yet
        _make_due(delivery)
        assert webhooks_retry_due() == 1  # queued (and, here, run at once)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500, 503, 502, 200]
    assert all(r["verified"] for r in receiver.requests)
    assert [r["headers"]["dreamnet-attempt"] for r in receiver.requests] == ["1", "2", "3", "4"]
    assert len({r["body"] for r in receiver.requests}) == 1  # the same body every time
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.failing_since) == (0, None)


def test_the_backoff_doubles_up_to_its_cap(settings):
    settings.MESH_WEBHOOK_RETRY_BASE_S, settings.MESH_WEBHOOK_RETRY_MAX_INTERVAL_S = 60, 3600
    assert [webhook_backoff(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert webhook_backoff(500).total_seconds() == 3600


def test_a_delivery_is_given_up_when_its_day_of_retries_is_over(receiver, django_capture_on_commit_callbacks, settings):
    _subscribe(receiver)
    receiver.statuses = [500, 500]
    with django_capture_on_commit_callbacks(execute=False):
        event = mesh.publish("order.paid", {"number": "PSD-1"})
        [delivery] = webhook_fanout(event_id=event.pk)
    window = timedelta(seconds=settings.MESH_WEBHOOK_RETRY_FOR_S)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - window + timedelta(seconds=30))
    webhook_attempt(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at <= delivery.created_at + window  # the last retry lands inside the window
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - window, next_attempt_at=None)
    webhook_attempt(delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert "gave up after 2 attempts" in delivery.last_error
    assert webhooks_retry_due() == 0


def test_a_consumer_that_keeps_failing_is_paused_and_the_operator_told(
    client, api, receiver, inline_tasks, django_capture_on_commit_callbacks, settings
):
    settings.MESH_WEBHOOK_PAUSE_MIN_FAILURES, settings.MESH_WEBHOOK_PAUSE_AFTER_S = 3, 3600
    subscription = _subscribe(receiver)
    receiver.statuses = [500] * 10
    _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    _make_due(delivery)
    webhook_attempt(delivery=delivery)
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == ("active", 2)  # failing, but not for long
    WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=timezone.now() - timedelta(hours=2))
    _make_due(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_attempt(delivery=delivery)
    subscription.refresh_from_db()
    assert subscription.state == "paused" and "after 3 failed attempts in a row" in subscription.paused_reason
    told = Event.objects.get(topic="webhook.paused")
    assert told.payload["subscription"] == subscription.pk and "HTTP 500" in told.payload["reason"]

    _make_due(delivery)
    assert webhooks_retry_due() == 0  # a paused consumer is left alone
    assert webhook_attempt(delivery=delivery).attempts == 3
    _publish_and_commit("order.refunded", django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 1  # and gets no new deliveries

    receiver.statuses = []
    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(f"/api/mesh/webhooks/{subscription.pk}/resume", headers=api)
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
    again = client.post(f"/api/mesh/webhooks/{subscription.pk}/resume", headers=api)
    assert (again.status_code, again.json()["code"]) == (409, "not_paused")


def test_redirects_are_not_followed(receiver, inline_tasks, django_capture_on_commit_callbacks):
    elsewhere = Receiver()
    try:
        _subscribe(receiver)
        receiver.statuses, receiver.location = [302], elsewhere.url
        _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending" and delivery.last_status_code == 302
        assert "not followed" in delivery.last_error
        assert elsewhere.requests == []
    finally:
        elsewhere.close()


def test_an_unreachable_consumer_is_an_attempt_without_a_status(inline_tasks, django_capture_on_commit_callbacks):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    webhook_create(name="gone", url=closed, topics=["*"])
    _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "failed" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"


@pytest.mark.django_db(transaction=True)
def test_the_publishing_request_only_queues_the_delivery(client, receiver):
    from django_q.brokers import get_broker

    broker = get_broker()
    broker.purge_queue()
    _subscribe(receiver, ["dreamsnail.*"])
    response = client.post("/api/dreamsnail/commit", {"algorithm": "sha256", "digest": "ab" * 32},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 201
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()
    assert broker.queue_size() == 1  # the fan-out task waits for the cluster
    broker.purge_queue()


# API and console ----------------------------------------------------------------------------------------------------


def test_the_api_manages_subscriptions_and_shows_the_secret_only_once(client, api, receiver):
    created = client.post("/api/mesh/webhooks", {"name": "erp", "url": receiver.url, "topics": ["order.*", "*.failed"]},
                          content_type="application/json", headers=api)  # fmt: skip
    assert created.status_code == 201
    data = created.json()
    assert data["secret"].startswith("whsec_") and data["state"] == "active"
    listed = client.get("/api/mesh/webhooks", headers=api).json()
    assert [s["name"] for s in listed] == ["erp"] and "secret" not in listed[0]
    patched = client.patch(f"/api/mesh/webhooks/{data['id']}", {"topics": ["peer.*"]}, content_type="application/json",
                           headers=api)  # fmt: skip
    assert patched.json()["topics"] == ["peer.*"] and patched.json()["url"] == receiver.url
    rotated = client.post(f"/api/mesh/webhooks/{data['id']}/rotate-secret", headers=api).json()
    assert rotated["secret"] != data["secret"]
    paused = client.post(f"/api/mesh/webhooks/{data['id']}/pause", {}, content_type="application/json", headers=api)
    assert paused.json()["state"] == "paused"
    twice = client.post(f"/api/mesh/webhooks/{data['id']}/pause", {}, content_type="application/json", headers=api)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_paused")
    assert client.get(f"/api/mesh/webhooks/{data['id']}/deliveries", headers=api).json() == []
    assert client.delete(f"/api/mesh/webhooks/{data['id']}", headers=api).status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert {e.topic for e in Event.objects.all()} >= {"webhook.created", "webhook.updated", "webhook.deleted"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://example.com/hook"}, "invalid_url"),
        ({"url": "javascript:alert(1)"}, "invalid_url"),
        ({"url": "file:///etc/passwd"}, "invalid_url"),
        ({"url": "https://user:secret@example.com/hook"}, "invalid_url"),
        ({"url": "https:///no-host"}, "invalid_url"),
        ({"url": "/relative"}, "invalid_url"),
        ({"topics": []}, "invalid_topics"),
        ({"topics": ["Order.Paid"]}, "invalid_topics"),
        ({"topics": "order.*"}, "validation_error"),
        ({"secret": "short"}, "invalid_secret"),
        ({"secret": "has spaces in it, sixteen+"}, "invalid_secret"),
        ({"name": " "}, "invalid_name"),
    ],
)
def test_bad_subscriptions_get_specific_errors(client, api, body, code):
    full = {"name": "n8n", "url": "https://n8n.example.com/webhook/1", "topics": ["order.*"]} | body
    response = client.post("/api/mesh/webhooks", full, content_type="application/json", headers=api)
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert not WebhookSubscription.objects.exists()


def test_the_webhook_api_needs_the_mesh_scope(client):
    from dreamnet.apikeys import apikey_create

    assert client.get("/api/mesh/webhooks").status_code == 401
    _key, raw = apikey_create(name="ops only", scopes=["ops"])
    assert client.get("/api/mesh/webhooks", headers={"X-DREAMNET-KEY": raw}).status_code == 403


def test_the_service_refuses_bad_input_with_codes():
    with pytest.raises(WebhookError) as exc:
        webhook_create(name="x", url="gopher://example.com", topics=["*"])
    assert exc.value.code == "invalid_url"
    with pytest.raises(WebhookError, match="not paused"):
        webhook_resume(subscription=webhook_create(name="x", url="http://127.0.0.1:9/h", topics=["*"]))


def test_the_console_creates_shows_the_secret_once_and_lists_attempts(
    client, olivia, receiver, inline_tasks, django_capture_on_commit_callbacks
):
    client.force_login(olivia)
    page = client.post(
        "/console/mesh/webhooks/", {"name": "zapier", "url": receiver.url, "topics": "order.*, *.failed"}
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.topics == ["order.*", "*.failed"]
    assert subscription.secret in page.content.decode() and "shown this once" in page.content.decode()
    listing = client.get("/console/mesh/webhooks/").content.decode()
    assert "zapier" in listing and subscription.secret not in listing
    receiver.secret, receiver.statuses = subscription.secret, [500]
    _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
    detail = client.get(f"/console/mesh/webhooks/{subscription.pk}/").content.decode()
    assert "#1" in detail and "500" in detail and "order.paid" in detail and subscription.secret not in detail
    bad = client.post("/console/mesh/webhooks/", {"name": "x", "url": "ftp://example.com", "topics": "*"})
    assert bad.status_code == 422 and "only http:// and https://" in bad.content.decode()
    assert client.post(f"/console/mesh/webhooks/{subscription.pk}/pause/").status_code == 302
    subscription.refresh_from_db()
    assert subscription.state == "paused"
    rotated = client.post(f"/console/mesh/webhooks/{subscription.pk}/rotate/")
    subscription.refresh_from_db()
    assert subscription.secret in rotated.content.decode()
    assert client.post(f"/console/mesh/webhooks/{subscription.pk}/delete/").status_code == 302
    assert not WebhookSubscription.objects.exists()


def test_the_webhook_console_is_staff_only(client, alice):
    client.force_login(alice)
    assert client.get("/console/mesh/webhooks/").status_code == 302


def test_the_retry_schedule_is_ensured():
    from django_q.models import Schedule

    from mesh.tasks import WEBHOOKS_SCHEDULE, schedule_ensure, webhooks_retry_task

    schedule_ensure()
    assert Schedule.objects.get(name=WEBHOOKS_SCHEDULE).func == "mesh.tasks.webhooks_retry_task"
    assert webhooks_retry_task() == 0


def test_the_admin_edits_subscriptions_through_the_service(client, receiver, inline_tasks,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    from django.contrib.auth import get_user_model

    subscription = _subscribe(receiver)
    receiver.statuses = [500]
    _publish_and_commit("order.paid", django_capture_on_commit_callbacks)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    for model in ("webhooksubscription", "webhookdelivery", "webhookattempt"):
        assert client.get(f"/admin/mesh/{model}/").status_code == 200, model
    form = client.get(f"/admin/mesh/webhooksubscription/{subscription.pk}/change/").content.decode()
    assert subscription.secret not in form
    delivery = WebhookDelivery.objects.get()
    assert "HTTP 500" in client.get(f"/admin/mesh/webhookdelivery/{delivery.pk}/change/").content.decode()
    url = f"/admin/mesh/webhooksubscription/{subscription.pk}/change/"
    refused = client.post(url, {"name": "n8n", "url": "ftp://example.com", "topics": '["order.*"]'})
    assert refused.status_code == 200 and "only http:// and https://" in refused.content.decode()
    saved = client.post(url, {"name": "n8n", "url": receiver.url, "topics": '["mission.*"]'})
    assert saved.status_code == 302
    subscription.refresh_from_db()
    assert subscription.topics == ["mission.*"]
    assert Event.objects.filter(topic="webhook.updated").exists()
