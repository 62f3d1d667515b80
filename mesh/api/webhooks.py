"""/api/mesh/webhooks/: webhook subscriptions and their deliveries (``mesh`` scope)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Schema, Status

from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh.api.common import ERRORS_422, router
from mesh.models import WebhookSubscription
from mesh.webhooks import services as webhooks


class WebhookIn(Schema):
    name: str
    url: str
    topics: list[str]
    secret: str | None = None


class WebhookPatchIn(Schema):
    name: str | None = None
    url: str | None = None
    topics: list[str] | None = None


class WebhookPauseIn(Schema):
    reason: str = "Paused by an operator."


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    topics: list[str]
    state: str
    paused_reason: str
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str


class AttemptOut(Schema):
    number: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str
    response_excerpt: str


class DeliveryOut(Schema):
    id: int
    event_seq: int
    topic: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut]


def _webhook_out(sub: WebhookSubscription, *, secret: bool = False) -> dict:
    data = {
        "id": sub.pk, "name": sub.name, "url": sub.url, "topics": sub.topics, "state": sub.state,
        "paused_reason": sub.paused_reason, "consecutive_failures": sub.consecutive_failures,
        "failing_since": sub.failing_since, "last_success_at": sub.last_success_at, "created_at": sub.created_at,
    }  # fmt: skip
    return data | {"secret": sub.secret} if secret else data


def _webhook(sub_id: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription, pk=sub_id)


@router.get("/webhooks", response={200: list[WebhookOut], **AUTH_ERRORS}, auth=require_scope("mesh"))
def webhook_list(request: HttpRequest):
    """Webhook subscriptions (secrets are shown only when created or rotated)."""
    return [_webhook_out(s) for s in WebhookSubscription.objects.all()]


@router.post(
    "/webhooks", response={201: WebhookSecretOut, **AUTH_ERRORS, **ERRORS_422}, auth=require_scope("mesh"),
    summary="Subscribe a URL to events",
)  # fmt: skip
def webhook_create(request: HttpRequest, body: WebhookIn):
    """Events whose topic matches one of `topics` (`*` matches any run of characters: `order.*`, `*.failed`,
    `*`) are POSTed to `url` (http or https) as JSON signed with `secret` (generated when omitted; returned
    only here and by rotate-secret). See docs/mesh.md "Webhooks" for the signature scheme."""
    sub = webhooks.webhook_create(name=body.name, url=body.url, topics=body.topics, secret=body.secret,
                                  by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    return Status(201, _webhook_out(sub, secret=True))


@router.get("/webhooks/{sub_id}", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"))
def webhook_detail(request: HttpRequest, sub_id: int):
    return _webhook_out(_webhook(sub_id))


@router.patch(
    "/webhooks/{sub_id}", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_update(request: HttpRequest, sub_id: int, body: WebhookPatchIn):
    """Change the name, URL or topics; fields left out stay as they are."""
    sub = webhooks.webhook_update(subscription=_webhook(sub_id), name=body.name, url=body.url, topics=body.topics,
                                  by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    return _webhook_out(sub)


@router.delete("/webhooks/{sub_id}", response={204: None, **AUTH_ERRORS, 404: ErrorOut}, auth=require_scope("mesh"))
def webhook_delete(request: HttpRequest, sub_id: int):
    webhooks.webhook_delete(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    return Status(204, None)


@router.post(
    "/webhooks/{sub_id}/pause", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_pause(request: HttpRequest, sub_id: int, body: WebhookPauseIn):
    sub = webhooks.webhook_pause(subscription=_webhook(sub_id), reason=body.reason[:500],
                                 by=f"apikey:{request.api_key.prefix}")  # fmt: skip
    return _webhook_out(sub)


@router.post(
    "/webhooks/{sub_id}/resume", response={200: WebhookOut, **AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_resume(request: HttpRequest, sub_id: int):
    """Deliver again; pending deliveries are retried at once and the failure count starts over."""
    sub = webhooks.webhook_resume(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    return _webhook_out(sub)


@router.post(
    "/webhooks/{sub_id}/rotate-secret", response={200: WebhookSecretOut, **AUTH_ERRORS, 404: ErrorOut},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_rotate_secret(request: HttpRequest, sub_id: int):
    """Replace the signing secret; the next attempt is signed with the new one, which is returned once."""
    sub = webhooks.webhook_rotate_secret(subscription=_webhook(sub_id), by=f"apikey:{request.api_key.prefix}")
    return _webhook_out(sub, secret=True)


class DeliveriesQuery(Schema):
    limit: int = 50


@router.get(
    "/webhooks/{sub_id}/deliveries", response={200: list[DeliveryOut], **AUTH_ERRORS, 404: ErrorOut, **ERRORS_422},
    auth=require_scope("mesh"),
)  # fmt: skip
def webhook_deliveries(request: HttpRequest, sub_id: int, query: Query[DeliveriesQuery]):
    """The latest deliveries, newest first, each with its attempt log (status code, error, duration)."""
    if not 1 <= query.limit <= 200:
        raise ApiError(422, "bad_limit", "limit must be between 1 and 200.")
    rows = _webhook(sub_id).deliveries.select_related("event").prefetch_related("attempt_log")[: query.limit]
    return [
        {"id": d.pk, "event_seq": d.event.log_index, "topic": d.event.topic, "status": d.status,
         "attempts": d.attempts, "next_attempt_at": d.next_attempt_at, "last_status_code": d.last_status_code,
         "last_error": d.last_error, "created_at": d.created_at, "delivered_at": d.delivered_at,
         "attempt_log": list(d.attempt_log.all())}
        for d in rows
    ]  # fmt: skip
