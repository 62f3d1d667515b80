"""Webhook writes: subscriptions, the fan-out of an event into deliveries, and delivery attempts.

Every request runs in a Django-Q2 task: ``mesh.publish`` queues ``webhook_fanout_task`` after commit when a
subscription's pattern matches (see ``mesh.webhooks.hook``), the fan-out creates one delivery per matching
subscription and queues an attempt for each, and a scheduled sweep queues the retries that come due. An
attempt is claimed with a lease (a conditional UPDATE, so two workers never send the same delivery at once),
sent once, logged as a ``WebhookAttempt``, and rescheduled with exponential backoff until it succeeds or its
retry window closes. A subscription that keeps failing is paused and ``webhook.paused`` is published.

``by`` is the operator (a ``User``) or, from the API, the key's label ``apikey:<prefix>``; either is the event's actor.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mesh.entries import canonical_json
from mesh.identity import node_identity
from mesh.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from mesh.peers import http
from mesh.services import MeshError, event_message, publish
from mesh.webhooks.hook import subscriptions_changed
from mesh.webhooks.signing import HEADER, sign_header
from mesh.webhooks.topics import check_patterns, topic_matches

logger = logging.getLogger(__name__)
SECRET_RE = re.compile(r"[\x21-\x7e]{16,200}")
USER_AGENT = "DreamNet-Webhooks/1"
Status = WebhookDelivery.Status
SubState = WebhookSubscription.State


class WebhookError(MeshError):
    """A subscription change the node refuses; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, *, code: str, status: int = 422) -> None:
        super().__init__(message, code=code)
        self.status = status


def _actor(by: User | str | None) -> User | None:
    return by if getattr(by, "pk", None) else None


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise WebhookError("Name the subscription (at most 100 characters), e.g. 'n8n orders'.", code="invalid_name")
    return name


def _check_url(url: str) -> str:
    try:
        url = http.check_http_url(url)
    except ValueError as exc:
        raise WebhookError(f"The webhook URL is not usable: {exc}.", code="invalid_url") from exc
    host = urllib.parse.urlsplit(url).hostname or ""
    if not settings.MESH_WEBHOOK_ALLOW_PRIVATE and _literal_private(host):
        raise WebhookError(
            f"The webhook URL points at {host}, which is not a public address; webhooks go to the internet "
            "(set DREAMNET_MESH_WEBHOOK_ALLOW_PRIVATE=1 to allow private targets).",
            code="private_url",
        )
    return url


def _literal_private(host: str) -> bool:
    """A host that is plainly internal without a DNS lookup (names are checked again at every send)."""
    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
        return True
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False


def _check_topics(topics: Any) -> list[str]:
    try:
        return check_patterns(topics)
    except (ValueError, TypeError) as exc:
        raise WebhookError(f"Topics: {exc}.", code="invalid_topics") from exc


def _check_secret(secret: str | None) -> str:
    if not secret:
        return "whsec_" + secrets.token_urlsafe(32)
    if not SECRET_RE.fullmatch(secret):
        raise WebhookError(
            "A signing secret is 16 to 200 printable ASCII characters without spaces; leave it empty to have one "
            "generated.",
            code="invalid_secret",
        )
    return secret


def _changed() -> None:
    subscriptions_changed()  # this connection sees the change now; other processes within the cache interval
    transaction.on_commit(subscriptions_changed)


def webhook_create(
    *, name: str, url: str, topics: list[str], secret: str | None = None, by: User | str | None = None
) -> WebhookSubscription:
    """Register a consumer; the secret is generated when not given. Publishes ``webhook.created``.

    Raises WebhookError ``invalid_name``, ``invalid_url`` (not http(s), no host, credentials), ``invalid_topics``
    or ``invalid_secret``.
    """
    subscription = WebhookSubscription(
        name=_check_name(name), url=_check_url(url), topics=_check_topics(topics), secret=_check_secret(secret),
        created_by=_actor(by),
    )  # fmt: skip
    with transaction.atomic():
        subscription.save()
        publish("webhook.created", {"subscription": subscription.pk, "name": subscription.name,
                                    "url": subscription.url, "topics": subscription.topics}, actor=by)  # fmt: skip
        _changed()
    return subscription


def webhook_update(
    *, subscription: WebhookSubscription, name: str | None = None, url: str | None = None,
    topics: list[str] | None = None, by: User | str | None = None,
) -> WebhookSubscription:  # fmt: skip
    """Change a subscription's name, URL or topics (what is None stays). Publishes ``webhook.updated``."""
    if name is not None:
        subscription.name = _check_name(name)
    if url is not None:
        subscription.url = _check_url(url)
    if topics is not None:
        subscription.topics = _check_topics(topics)
    with transaction.atomic():
        subscription.save(update_fields=["name", "url", "topics", "updated_at"])
        publish("webhook.updated", {"subscription": subscription.pk, "name": subscription.name,
                                    "url": subscription.url, "topics": subscription.topics}, actor=by)  # fmt: skip
        _changed()
    return subscription


def webhook_delete(*, subscription: WebhookSubscription, by: User | str | None = None) -> None:
    """Delete a subscription with its deliveries and attempt log. Publishes ``webhook.deleted``."""
    with transaction.atomic():
        publish("webhook.deleted", {"subscription": subscription.pk, "name": subscription.name,
                                    "url": subscription.url}, actor=by)  # fmt: skip
        subscription.delete()
        _changed()


def webhook_rotate_secret(*, subscription: WebhookSubscription, by: User | str | None = None) -> WebhookSubscription:
    """Replace the signing secret with a new random one (effective for the next attempt); return the row."""
    with transaction.atomic():
        subscription.secret = _check_secret(None)
        subscription.save(update_fields=["secret", "updated_at"])
        publish("webhook.secret_rotated", {"subscription": subscription.pk, "name": subscription.name}, actor=by)
    return subscription


def webhook_pause(
    *, subscription: WebhookSubscription, reason: str, by: User | str | None = None
) -> WebhookSubscription:
    """Stop delivering to a subscription; its pending deliveries wait. Publishes ``webhook.paused``."""
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.state == SubState.PAUSED:
            raise WebhookError(f"{locked.name} is already paused.", code="already_paused", status=409)
        _pause(locked, reason=reason, by=by)
    return locked


def _pause(subscription: WebhookSubscription, *, reason: str, by: User | str | None = None) -> None:
    subscription.state, subscription.paused_reason = SubState.PAUSED, reason
    subscription.save(update_fields=["state", "paused_reason", "updated_at"])
    publish("webhook.paused", {"subscription": subscription.pk, "name": subscription.name, "url": subscription.url,
                               "reason": reason, "consecutive_failures": subscription.consecutive_failures},
            actor=by)  # fmt: skip
    _changed()


def webhook_resume(*, subscription: WebhookSubscription, by: User | str | None = None) -> WebhookSubscription:
    """Deliver again: failure counters reset and every pending delivery is due now. Publishes ``webhook.resumed``."""
    now = timezone.now()
    with transaction.atomic():
        locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.state == SubState.ACTIVE:
            raise WebhookError(f"{locked.name} is not paused.", code="not_paused", status=409)
        locked.state, locked.paused_reason = SubState.ACTIVE, ""
        locked.consecutive_failures, locked.failing_since = 0, None
        locked.save(update_fields=["state", "paused_reason", "consecutive_failures", "failing_since", "updated_at"])
        pending = locked.deliveries.filter(status=Status.PENDING).update(next_attempt_at=now)
        publish("webhook.resumed", {"subscription": locked.pk, "name": locked.name, "pending": pending}, actor=by)
        _changed()
        transaction.on_commit(webhooks_retry_due)
    return locked


# Deliveries -------------------------------------------------------------------------------------------------------


def _queue_attempt(delivery_id: int) -> None:
    from django_q.tasks import async_task

    async_task("mesh.tasks.webhook_deliver_task", delivery_id, group="webhooks")


def webhook_fanout(*, event_id: int) -> list[WebhookDelivery]:
    """Create a delivery of the event for every active subscription whose topics match; queue an attempt each.

    Idempotent: a delivery exists at most once per (subscription, event), so running the task twice sends once.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return []
    now = timezone.now()
    created = []
    with transaction.atomic():
        for subscription in WebhookSubscription.objects.filter(state=SubState.ACTIVE):
            if not topic_matches(event.topic, subscription.topics):
                continue
            delivery, new = WebhookDelivery.objects.get_or_create(
                subscription=subscription, event=event, defaults={"next_attempt_at": now, "created_at": now}
            )
            if new:
                created.append(delivery)
                transaction.on_commit(lambda pk=delivery.pk: _queue_attempt(pk))
    return created


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """Return the JSON a delivery POSTs: the event as the console sees it, the node's origin, the delivery id."""
    return canonical_json(
        {"delivery": delivery.pk, "node": node_identity().origin, "event": event_message(delivery.event)}
    )


def webhook_backoff(attempt: int) -> timedelta:
    """Return the wait after failed attempt number ``attempt``: base · 2^(attempt − 1), capped at the maximum."""
    seconds = settings.MESH_WEBHOOK_RETRY_BASE_S * 2 ** min(attempt - 1, 40)
    return timedelta(seconds=min(seconds, settings.MESH_WEBHOOK_RETRY_MAX_INTERVAL_S))


def _claim(delivery: WebhookDelivery, now: datetime) -> bool:
    lease = now + timedelta(seconds=settings.MESH_WEBHOOK_TIMEOUT_S + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING, subscription__state=SubState.ACTIVE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(lease_until=lease)
    )
    return claimed == 1


def webhook_attempt(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send one attempt if the delivery is due and nobody holds it; log it and schedule the next on failure.

    Success is any 2xx answer; redirects are not followed. After a failure the next attempt is due after
    :func:`webhook_backoff`, never later than DREAMNET_MESH_WEBHOOK_RETRY_FOR_S after the event, when the
    delivery is given up. A subscription failing for DREAMNET_MESH_WEBHOOK_PAUSE_AFTER_S and at least
    DREAMNET_MESH_WEBHOOK_PAUSE_MIN_FAILURES attempts in a row is paused. Locks the delivery and the
    subscription to record the attempt.
    """
    if not _claim(delivery, timezone.now()):
        delivery.refresh_from_db()
        return delivery
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery.pk)
    subscription = delivery.subscription
    body = webhook_body(delivery)
    number = delivery.attempts + 1
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER: sign_header(subscription.secret, body),
        "DreamNet-Event": str(delivery.event.log_index),
        "DreamNet-Topic": delivery.event.topic,
        "DreamNet-Delivery": str(delivery.pk),
        "DreamNet-Attempt": str(number),
    }
    started = timezone.now()
    status_code, excerpt = None, ""
    try:
        response = http.request("POST", subscription.url, body=body, headers=headers,
                                timeout=settings.MESH_WEBHOOK_TIMEOUT_S,
                                allow_private=settings.MESH_WEBHOOK_ALLOW_PRIVATE)  # fmt: skip
    except http.Unreachable as exc:
        error, duration_ms = str(exc), (timezone.now() - started).total_seconds() * 1000
    else:
        status_code, duration_ms = response.status, response.elapsed_ms
        excerpt = response.body[:500].decode(errors="replace")
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
        if 300 <= status_code < 400:
            error += f" (redirect to {response.headers.get('Location', '?')!r} not followed)"
    return _attempt_record(delivery.pk, number=number, started=started, duration_ms=duration_ms,
                           status_code=status_code, error=error, excerpt=excerpt)  # fmt: skip


def _attempt_record(
    delivery_id: int, *, number: int, started: datetime, duration_ms: float, status_code: int | None, error: str,
    excerpt: str,
) -> WebhookDelivery:  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        WebhookAttempt.objects.create(delivery=delivery, number=number, started_at=started, duration_ms=duration_ms,
                                      status_code=status_code, error=error[:2000], response_excerpt=excerpt)  # fmt: skip
        delivery.attempts, delivery.lease_until = number, None
        delivery.last_status_code, delivery.last_error = status_code, error[:2000]
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.SUCCEEDED, now, None
            subscription.consecutive_failures, subscription.failing_since = 0, None
            subscription.last_success_at = now
        else:
            deadline = delivery.created_at + timedelta(seconds=settings.MESH_WEBHOOK_RETRY_FOR_S)
            if now >= deadline:
                delivery.status, delivery.next_attempt_at = Status.FAILED, None
                delivery.last_error = f"{error[:1800]}; gave up after {number} attempts over " \
                                      f"{settings.MESH_WEBHOOK_RETRY_FOR_S} s"  # fmt: skip
            else:
                delivery.next_attempt_at = min(now + webhook_backoff(number), deadline)
            subscription.consecutive_failures += 1
            subscription.failing_since = subscription.failing_since or now
        delivery.save()
        subscription.save(update_fields=["consecutive_failures", "failing_since", "last_success_at", "updated_at"])
        failing_for = (now - subscription.failing_since).total_seconds() if subscription.failing_since else 0
        if (
            subscription.state == SubState.ACTIVE
            and subscription.consecutive_failures >= settings.MESH_WEBHOOK_PAUSE_MIN_FAILURES
            and failing_for >= settings.MESH_WEBHOOK_PAUSE_AFTER_S
        ):
            _pause(subscription, reason=f"Paused after {subscription.consecutive_failures} failed attempts in a row "
                   f"over {failing_for / 3600:.1f} h; last: {error[:300]}")  # fmt: skip
    return delivery


def webhooks_retry_due(*, limit: int = 500) -> int:
    """Queue an attempt for every pending delivery of an active subscription whose next attempt is due."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now,
                                       subscription__state=SubState.ACTIVE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )  # fmt: skip
    for pk in due:
        _queue_attempt(pk)
    return len(due)
