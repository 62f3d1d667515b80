"""The Lemon Squeezy adapter: hosted checkouts through its REST API (JSON:API), refunds, plan variants, and
signed webhooks parsed into internal events.

Lemon Squeezy is the merchant of record: it adds and remits VAT/sales tax and offers local methods, so the
order's amount goes to it as the pre-tax ``custom_price`` (integer cents, the store's currency, USD) and the
buyer pays that plus the tax of their country. Off unless LEMONSQUEEZY_API_KEY and LEMONSQUEEZY_STORE_ID are
set (LEMONSQUEEZY_API_BASE points at a compatible server for testing); no payment is ever simulated.

Wire details (https://docs.lemonsqueezy.com/api):

- ``POST /v1/checkouts`` with ``data.type = "checkouts"``, ``attributes.custom_price`` (cents),
  ``attributes.checkout_data.custom`` (our order reference; Lemon Squeezy hands it back in every webhook as
  ``meta.custom_data``), ``attributes.expires_at`` (the price lock's end: the checkout cannot be paid after it),
  and relationships ``store`` and ``variant``.
- ``POST /v1/orders/{id}/refund`` with an optional ``amount`` in cents.
- ``GET /v1/variants`` (paged) for the plans' variants.
- Webhooks: ``X-Signature`` is the hex HMAC-SHA256 of the raw body with the signing secret; the event name is
  ``meta.event_name``. Deliveries carry no event id, so the inbox keys each one by event name, object type and
  id, and the object's ``updated_at``: a retry of the same delivery is the same key, a later change is a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from commerce.errors import CommerceError
from commerce.models import Company, Order, Plan
from commerce.payments.base import Checkout, EventKind, PaymentEvent, WebhookEvent, WebhookRejected, to_cents

logger = logging.getLogger(__name__)
JSONAPI = "application/vnd.api+json"
RETRIES = 2  # after the first try, on timeouts, connection errors, 429 and 5xx
REF = "lemonsqueezy:"  # prefix of Lemon Squeezy ids stored in shared columns (payment reference, subscription id)
SUBSCRIPTION_EVENTS = {
    "subscription_created": EventKind.SUBSCRIPTION_STARTED,
    "subscription_updated": EventKind.SUBSCRIPTION_UPDATED,
    "subscription_cancelled": EventKind.SUBSCRIPTION_CANCELLED,
    "subscription_expired": EventKind.SUBSCRIPTION_CANCELLED,
}
INVOICE_EVENTS = {
    "subscription_payment_success": EventKind.SUBSCRIPTION_RENEWED,
    "subscription_payment_failed": EventKind.SUBSCRIPTION_PAYMENT_FAILED,
}
# Lemon Squeezy's subscription statuses as DreamNet's (which follow Stripe's spelling).
STATUS = {
    "on_trial": "trialing",
    "active": "active",
    "paused": "paused",
    "past_due": "past_due",
    "unpaid": "unpaid",
    "cancelled": "canceled",
    "expired": "canceled",
}


class LemonSqueezyProvider:
    """Lemon Squeezy through its REST API (httpx, timeouts, retries with back-off)."""

    name = "lemonsqueezy"

    def unavailable_reason(self) -> str | None:
        if not settings.LEMONSQUEEZY_API_KEY or not settings.LEMONSQUEEZY_STORE_ID:
            return (
                "Lemon Squeezy payments are not set up on this node "
                "(no LEMONSQUEEZY_API_KEY or LEMONSQUEEZY_STORE_ID); pay by wire."
            )
        return None

    # HTTP ------------------------------------------------------------------------------------------------

    def _request(
        self,
        what: str,
        method: str,
        path: str,
        body: dict | None = None,
        params: dict | None = None,
        retries: int = RETRIES,
    ):
        """Call the API; return the decoded JSON:API document. Retries transient failures ``retries`` times; a
        refusal or a provider that stays down raises CommerceError (code ``lemonsqueezy_error``, 502)."""
        headers = {
            "Accept": JSONAPI,
            "Content-Type": JSONAPI,
            "Authorization": f"Bearer {settings.LEMONSQUEEZY_API_KEY}",
        }
        url = settings.LEMONSQUEEZY_API_BASE + path
        problem = ""
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(min(0.25 * 2**attempt, 2.0))
            try:
                response = httpx.request(
                    method,
                    url,
                    headers=headers,
                    content=json.dumps(body).encode() if body is not None else None,
                    params=params,
                    timeout=settings.LEMONSQUEEZY_TIMEOUT_S,
                )
            except httpx.TimeoutException:
                problem = f"no answer within {settings.LEMONSQUEEZY_TIMEOUT_S} s"
                continue
            except httpx.HTTPError as exc:
                problem = f"could not connect ({exc.__class__.__name__})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise CommerceError(
                    f"Lemon Squeezy refused to {what}: {_errors(response)}", code="lemonsqueezy_error", status=502
                )
            try:
                return response.json()
            except ValueError:
                raise CommerceError(
                    f"Lemon Squeezy answered {what} with a body that is not JSON.",
                    code="lemonsqueezy_error",
                    status=502,
                ) from None
        raise CommerceError(
            f"Lemon Squeezy did not {what}: {problem} after {retries + 1} tries.",
            code="lemonsqueezy_error",
            status=502,
        )

    def _checkout(self, *, variant: str, cents: int, custom: dict, expires_at: datetime | None, redirect: str):
        attributes: dict[str, Any] = {
            "custom_price": cents,
            "product_options": {"redirect_url": redirect, "enabled_variants": [int(variant)]},
            "checkout_options": {"embed": False},
            "checkout_data": {"custom": custom},
            "expires_at": expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if expires_at else None,
            "test_mode": settings.LEMONSQUEEZY_API_KEY.startswith("test") if settings.LEMONSQUEEZY_API_KEY else False,
        }
        document = {
            "data": {
                "type": "checkouts",
                "attributes": attributes,
                "relationships": {
                    "store": {"data": {"type": "stores", "id": str(settings.LEMONSQUEEZY_STORE_ID)}},
                    "variant": {"data": {"type": "variants", "id": str(variant)}},
                },
            }
        }
        answer = self._request("open the checkout", "POST", "/v1/checkouts", document)
        try:
            data = answer["data"]
            return Checkout(id=str(data["id"]), url=data["attributes"]["url"])
        except (KeyError, TypeError):
            raise CommerceError(
                "Lemon Squeezy answered the checkout without an id and url.", code="lemonsqueezy_error", status=502
            ) from None

    # Checkouts, refunds, plans ---------------------------------------------------------------------------

    def order_checkout(self, *, order: Order, attempt: int) -> Checkout:
        variant = settings.LEMONSQUEEZY_ORDER_VARIANT_ID
        if not variant:
            raise CommerceError(
                "Lemon Squeezy has no variant for orders on this node (set LEMONSQUEEZY_ORDER_VARIANT_ID).",
                code="lemonsqueezy_unavailable",
                status=409,
            )
        return self._checkout(
            variant=variant,
            cents=to_cents(order.total),
            custom={"order": order.number, "quote": str(order.quote_id), "attempt": str(attempt)},
            expires_at=order.payment_deadline,
            redirect=settings.SITE_URL + reverse("commerce:checkout-return", args=[order.number]),
        )

    def plan_checkout(self, *, company: Company, plan: Plan) -> Checkout:
        if not plan.lemonsqueezy_variant_id:
            raise CommerceError(
                f"The {plan.name} plan is not on sale through Lemon Squeezy yet (run lemonsqueezy_sync_plans).",
                code="plan_unavailable",
                status=409,
            )
        return self._checkout(
            variant=plan.lemonsqueezy_variant_id,
            cents=to_cents(plan.monthly_price),  # Lemon Squeezy bills renewals at this custom price too
            custom={"company": company.slug, "plan": plan.slug},
            expires_at=None,
            redirect=settings.SITE_URL + reverse("commerce:intelligence") + "?subscribed=1",
        )

    def checkout_expire(self, *, checkout_id: str) -> bool:
        # Lemon Squeezy has no call to close a checkout; ours carry ``expires_at`` = the lock's end, after which
        # it refuses to take the payment. So an order checkout is closed once its lock has ended.
        return True

    def refund(self, *, order: Order, amount_cents: int | None, number: int) -> str:
        order_id = order.payment_intent.removeprefix(REF)
        attributes: dict[str, Any] = {}
        if amount_cents is not None:
            attributes["amount"] = amount_cents
        answer = self._request(
            "refund",
            "POST",
            f"/v1/orders/{order_id}/refund",
            {"data": {"type": "orders", "id": str(order_id), "attributes": attributes}},
            # Lemon Squeezy takes no idempotency key: a retried refund whose first try did land would refund
            # twice, so a failure is reported for the operator to check instead.
            retries=0,
        )
        refunded = ((answer.get("data") or {}).get("attributes") or {}).get("refunded_amount")
        return f"{REF}{order_id}/refund-{number}" + (f"/{refunded}" if refunded is not None else "")

    def billing_portal_url(self, *, company: Company, return_url: str) -> str:
        raise CommerceError(
            "Lemon Squeezy subscriptions are managed from the link in Lemon Squeezy's receipt e-mail.",
            code="no_customer",
            status=409,
        )

    def variants(self) -> list[dict]:
        """Return every variant the key can see (all pages), each with its product's name."""
        found, page = [], 1
        while True:
            answer = self._request(
                "list the variants",
                "GET",
                "/v1/variants",
                params={"page[number]": page, "page[size]": 100, "include": "product"},
            )
            products = {
                str(item["id"]): item.get("attributes", {}).get("name", "")
                for item in answer.get("included") or []
                if item.get("type") == "products"
            }
            for item in answer.get("data") or []:
                attributes = item.get("attributes") or {}
                product = str(((item.get("relationships") or {}).get("product") or {}).get("data", {}).get("id", ""))
                found.append(
                    {
                        "id": str(item["id"]),
                        "name": attributes.get("name", ""),
                        "slug": attributes.get("slug", ""),
                        "price": attributes.get("price"),
                        "interval": attributes.get("interval"),
                        "is_subscription": attributes.get("is_subscription"),
                        "product": products.get(product, "") or str(attributes.get("product_id", "")),
                    }
                )
            pagination = (answer.get("meta") or {}).get("page") or {}
            if page >= int(pagination.get("lastPage") or 1):
                return found
            page += 1

    def plan_sync(self, *, plan: Plan, variants: list[dict] | None = None) -> list[str]:
        """Find the plan's subscription variant (by slug, then by name or product name); Lemon Squeezy's API
        cannot create products, so a missing one is reported for an operator to create in its dashboard."""
        variants = self.variants() if variants is None else variants
        names = {plan.slug.lower(), plan.name.lower(), f"dreamnet {plan.name}".lower()}
        match = next(
            (
                v
                for v in variants
                if v["is_subscription"] is not False
                and (v["slug"].lower() in names or v["name"].lower() in names or v["product"].lower() in names)
            ),
            None,
        )
        if match is None:
            return [
                f"{plan.slug}: no Lemon Squeezy subscription variant named {plan.name!r}; create it in the dashboard"
            ]
        changes = []
        if plan.lemonsqueezy_variant_id != match["id"]:
            plan.lemonsqueezy_variant_id = match["id"]
            plan.save(update_fields=["lemonsqueezy_variant_id"])
            changes.append(f"{plan.slug}: variant {match['id']}")
        if match["price"] is not None and int(match["price"]) != to_cents(plan.monthly_price):
            changes.append(
                f"{plan.slug}: variant lists {int(match['price'])} cents; checkouts charge the plan's "
                f"{to_cents(plan.monthly_price)} cents as the custom price"
            )
        return changes

    def company_for_customer(self, customer: str) -> Company | None:
        # Lemon Squeezy repeats the checkout's custom data (the company's slug) on every subscription event.
        return Company.objects.filter(slug=customer).first() if customer else None

    def plan_for_price(self, price: str) -> Plan | None:
        return Plan.objects.filter(lemonsqueezy_variant_id=price).first() if price else None

    # Webhooks --------------------------------------------------------------------------------------------

    def webhook_parse(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        secret = settings.LEMONSQUEEZY_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("Webhooks are not configured on this node (no LEMONSQUEEZY_WEBHOOK_SECRET).")
        if not signature:
            raise WebhookRejected("Signature check failed: no X-Signature header.")
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise WebhookRejected("Signature check failed: X-Signature does not match the body.")
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRejected("The body is not JSON.") from None
        received = self.event_parse(body)
        age = (timezone.now() - _time(_stamp(body))).total_seconds()  # event_parse refused a missing time
        if age > settings.LEMONSQUEEZY_WEBHOOK_TOLERANCE_S:
            raise WebhookRejected(
                f"The event is {int(age)} s old, beyond the {settings.LEMONSQUEEZY_WEBHOOK_TOLERANCE_S} s tolerance "
                "(a replay?)."
            )
        return received

    def event_parse(self, body: dict) -> WebhookEvent:
        try:
            name, custom = body["meta"]["event_name"], body["meta"].get("custom_data") or {}
            data = body["data"]
            kind, object_id, attributes = data["type"], str(data["id"]), data["attributes"]
        except (KeyError, TypeError, AttributeError):
            raise WebhookRejected(
                "The body is not a Lemon Squeezy event (meta.event_name, data.type, data.id, data.attributes)."
            ) from None
        if not isinstance(name, str) or not isinstance(custom, dict) or not isinstance(attributes, dict):
            raise WebhookRejected("meta.event_name must be a string; meta.custom_data and data.attributes objects.")
        stamp = _stamp(body)
        moment = _time(stamp)
        if moment is None:
            raise WebhookRejected("The event has no valid updated_at or created_at.")
        event_id = f"{name}:{kind}:{object_id}:{stamp}"[:255]
        created = int(moment.timestamp() * 1000)  # ms: two updates in the same second still order
        events, note = self._events(name, kind, object_id, attributes, custom, created)
        return WebhookEvent(id=event_id, type=name, payload=body, events=events, note=note)

    def _events(
        self, name: str, kind: str, object_id: str, attributes: dict, custom: dict, created: int
    ) -> tuple[list[PaymentEvent], str]:
        if name == "order_created" and kind == "orders":
            if custom.get("plan"):
                return [], "subscription order; the subscription events carry its state"
            status = attributes.get("status")
            order_kind = {"paid": EventKind.PAID, "failed": EventKind.FAILED}.get(status)
            if order_kind is None:
                return [], f"stored; order {object_id} is {status}, its later events decide"
            return [
                PaymentEvent(
                    kind=order_kind,
                    provider=self.name,
                    created=created,
                    order=str(custom.get("order") or ""),
                    payment_ref=REF + object_id,
                    amount_cents=_int(attributes.get("subtotal")),  # pre-tax: the buyer's VAT is Lemon Squeezy's
                )
            ], ""
        if name == "order_refunded" and kind == "orders":
            if custom.get("plan"):
                return [], "subscription order refunded; the subscription events carry its state"
            subtotal = _int(attributes.get("subtotal")) or 0
            total = _int(attributes.get("total")) or 0
            refunded = _int(attributes.get("refunded_amount"))
            if refunded is None:
                refunded = total if attributes.get("refunded") else 0
            # Refunds are counted on the tax-inclusive total; compare them on that scale.
            return [
                PaymentEvent(
                    kind=EventKind.REFUNDED,
                    provider=self.name,
                    created=created,
                    order=str(custom.get("order") or ""),
                    payment_ref=REF + object_id,
                    amount_cents=total or subtotal,
                    refunded_cents=refunded,
                )
            ], ""
        if name in SUBSCRIPTION_EVENTS and kind == "subscriptions":
            status = STATUS.get(attributes.get("status") or "", attributes.get("status") or "incomplete")
            if name == "subscription_expired":
                status = "canceled"
            ends = _time(attributes.get("renews_at") or "") or _time(attributes.get("ends_at") or "")
            if attributes.get("status") == "cancelled" and attributes.get("ends_at"):
                ends = _time(attributes["ends_at"])
                # A cancelled subscription keeps access until the period it paid for ends.
                status = "active" if ends and ends > timezone.now() else "canceled"
            return [
                PaymentEvent(
                    kind=SUBSCRIPTION_EVENTS[name],
                    provider=self.name,
                    created=created,
                    subscription=REF + object_id,
                    customer=str(custom.get("company") or ""),
                    price=str(attributes.get("variant_id") or ""),
                    status=status,
                    period_end=ends,
                )
            ], ""
        if name in INVOICE_EVENTS and kind == "subscription-invoices":
            renewed = INVOICE_EVENTS[name] == EventKind.SUBSCRIPTION_RENEWED
            return [
                PaymentEvent(
                    kind=INVOICE_EVENTS[name],
                    provider=self.name,
                    created=created,
                    subscription=REF + str(attributes.get("subscription_id") or ""),
                    customer=str(custom.get("company") or ""),
                    status="active" if renewed else "past_due",
                )
            ], ""
        return [], f"stored; {name} ({kind}) needs no action here"


def _stamp(body: dict) -> str:
    attributes = ((body.get("data") or {}).get("attributes") or {}) if isinstance(body, dict) else {}
    return (
        str(attributes.get("updated_at") or attributes.get("created_at") or "") if isinstance(attributes, dict) else ""
    )


def _time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _errors(response: httpx.Response) -> str:
    """The JSON:API ``errors`` of a refusal, as one line."""
    try:
        errors = response.json().get("errors") or []
        text = "; ".join(str(e.get("detail") or e.get("title") or e) for e in errors)
    except (ValueError, AttributeError):
        text = ""
    return f"HTTP {response.status_code}" + (f" ({text[:200]})" if text else "")
