"""The Stripe adapter: Checkout (payment and subscription mode), refunds, the customer portal, plan prices, and
Stripe webhooks parsed into internal events.

Off unless STRIPE_SECRET_KEY is set (test or live keys; STRIPE_API_BASE points the SDK at a Stripe-compatible
server). Without it the card and ACH options say why they are unavailable; no payment is ever simulated.

Amounts: each order line goes to Stripe as one item whose unit amount is the line's Decimal total in integer
cents (quantity 1, the real quantity in the name), so Stripe's total equals the order's total to the cent.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from commerce.errors import CommerceError
from commerce.models import Company, Order, Plan, StripeCustomer
from commerce.payments.base import Checkout, EventKind, PaymentEvent, WebhookEvent, WebhookRejected, to_cents

logger = logging.getLogger(__name__)
# Stripe refuses Checkout Sessions that live less than 30 minutes; ours are expired by us when the lock ends.
SESSION_MIN_LIFETIME = timedelta(minutes=31)
SUBSCRIPTION_KINDS = {
    "customer.subscription.created": EventKind.SUBSCRIPTION_STARTED,
    "customer.subscription.updated": EventKind.SUBSCRIPTION_UPDATED,
    "customer.subscription.deleted": EventKind.SUBSCRIPTION_CANCELLED,
}


class StripeProvider:
    """Stripe through its official SDK (``stripe.StripeClient``)."""

    name = "stripe"

    def unavailable_reason(self) -> str | None:
        if not settings.STRIPE_SECRET_KEY:
            return "Card and ACH payments are not set up on this node (no Stripe key); pay by wire."
        return None

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=2
        )

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            message = getattr(exc, "user_message", None) or str(exc)
            raise CommerceError(f"Stripe refused to {what}: {message}", code="stripe_error", status=502) from exc

    def customer_for(self, company: Company) -> str:
        """Return the company's Stripe customer id, creating the customer once (idempotent per company)."""
        existing = StripeCustomer.objects.filter(company=company).first()
        if existing:
            return existing.customer_id
        customer = self._call(
            "create the customer",
            self._client().v1.customers.create,
            params={"name": company.name, "metadata": {"company": company.slug}},
            options={"idempotency_key": f"customer-{company.slug}-{company.pk}"},
        )
        try:
            with transaction.atomic():
                StripeCustomer.objects.create(company=company, customer_id=customer.id)
        except IntegrityError:
            pass  # a concurrent request stored the same customer (same idempotency key, same id)
        return StripeCustomer.objects.get(company=company).customer_id

    # Checkouts, refunds, portal, plans -----------------------------------------------------------------

    def order_checkout(self, *, order: Order, attempt: int) -> Checkout:
        lines = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": to_cents(line.line_total),
                    "product_data": {
                        "name": f"{line.quantity} × {line.product.name}",
                        "metadata": {"sku": line.product.sku},
                    },
                },
            }
            for line in order.lines.select_related("product")
        ]
        params = {
            "mode": "payment",
            "customer": self.customer_for(order.company),
            "client_reference_id": order.number,
            "line_items": lines,
            "payment_method_types": ["card"] if order.payment_method == "card" else ["us_bank_account"],
            "metadata": {"order": order.number, "quote": str(order.quote_id), "attempt": str(attempt)},
            "success_url": settings.SITE_URL
            + reverse("commerce:checkout-return", args=[order.number])
            + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": settings.SITE_URL + reverse("commerce:order", args=[order.number]) + "?checkout=cancelled",
            "expires_at": int((timezone.now() + SESSION_MIN_LIFETIME).timestamp()),
        }
        session = self._call(
            "open the checkout",
            self._client().v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": f"checkout-{order.number}-{attempt}"},
        )
        return Checkout(id=session.id, url=session.url)

    def plan_checkout(self, *, company: Company, plan: Plan) -> Checkout:
        if not plan.stripe_price_id:
            raise CommerceError(
                f"The {plan.name} plan is not on sale yet (run stripe_sync_plans).", code="plan_unavailable", status=409
            )
        params = {
            "mode": "subscription",
            "customer": self.customer_for(company),
            "client_reference_id": f"plan:{company.slug}:{plan.slug}",
            "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
            "metadata": {"company": company.slug, "plan": plan.slug},
            "subscription_data": {"metadata": {"company": company.slug, "plan": plan.slug}},
            "success_url": settings.SITE_URL + reverse("commerce:intelligence") + "?subscribed=1",
            "cancel_url": settings.SITE_URL + reverse("commerce:intelligence"),
        }
        session = self._call(
            "open the subscription checkout",
            self._client().v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": f"subscribe-{company.slug}-{plan.slug}-{uuid.uuid4().hex}"},
        )
        return Checkout(id=session.id, url=session.url)

    def checkout_expire(self, *, checkout_id: str) -> bool:
        try:
            self._client().v1.checkout.sessions.expire(checkout_id)
        except stripe.StripeError as exc:
            logger.warning("Stripe would not expire %s: %s", checkout_id, exc)
            return False  # already completed or expired at Stripe: its webhook decides
        return True

    def refund(self, *, order: Order, amount_cents: int | None, number: int) -> str:
        params: dict[str, Any] = {"payment_intent": order.payment_intent, "metadata": {"order": order.number}}
        if amount_cents is not None:
            params["amount"] = amount_cents
        refund = self._call(
            "refund",
            self._client().v1.refunds.create,
            params=params,
            options={"idempotency_key": f"refund-{order.number}-{number}"},
        )
        return refund.id

    def billing_portal_url(self, *, company: Company, return_url: str) -> str:
        customer = StripeCustomer.objects.filter(company=company).first()
        if customer is None:
            raise CommerceError("No Stripe subscription to manage yet.", code="no_customer", status=409)
        portal = self._call(
            "open the billing portal",
            self._client().v1.billing_portal.sessions.create,
            params={"customer": customer.customer_id, "return_url": return_url},
        )
        return portal.url

    def plan_sync(self, *, plan: Plan) -> list[str]:
        changes = []
        client = self._client()
        if not plan.stripe_product_id:
            product = self._call(
                "create the product",
                client.v1.products.create,
                params={"name": f"DreamNet {plan.name}", "metadata": {"plan": plan.slug}},
                options={"idempotency_key": f"plan-product-{plan.slug}-{plan.pk}"},
            )
            plan.stripe_product_id = product.id
            changes.append(f"{plan.slug}: product {product.id}")
        if plan.stripe_price_id and plan.stripe_price_amount == plan.monthly_price:
            plan.save(update_fields=["stripe_product_id"])
            return changes
        price = self._call(
            "create the price",
            client.v1.prices.create,
            params={
                "product": plan.stripe_product_id,
                "currency": "usd",
                "unit_amount": to_cents(plan.monthly_price),
                "recurring": {"interval": "month"},
                "metadata": {"plan": plan.slug},
            },
            options={"idempotency_key": f"plan-price-{plan.slug}-{to_cents(plan.monthly_price)}"},
        )
        plan.stripe_price_id, plan.stripe_price_amount = price.id, plan.monthly_price
        plan.save(update_fields=["stripe_product_id", "stripe_price_id", "stripe_price_amount"])
        changes.append(f"{plan.slug}: price {price.id} at ${plan.monthly_price}/month")
        return changes

    def company_for_customer(self, customer: str) -> Company | None:
        row = StripeCustomer.objects.filter(customer_id=customer).select_related("company").first()
        return row.company if row else None

    def plan_for_price(self, price: str) -> Plan | None:
        return Plan.objects.filter(stripe_price_id=price).first() if price else None

    # Webhooks ------------------------------------------------------------------------------------------

    def webhook_parse(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise WebhookRejected("Webhooks are not configured on this node (no STRIPE_WEBHOOK_SECRET).")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                settings.STRIPE_WEBHOOK_SECRET,
                settings.STRIPE_WEBHOOK_TOLERANCE_S,
            )
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"Signature check failed: {exc}") from exc
        except UnicodeDecodeError:
            raise WebhookRejected("The body is not UTF-8.") from None
        try:
            event = json.loads(payload)
        except ValueError:
            raise WebhookRejected("The body is not a Stripe event (id, type, data.object).") from None
        return self.event_parse(event)

    def event_parse(self, event: dict) -> WebhookEvent:
        try:
            event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
        except (KeyError, TypeError):
            raise WebhookRejected("The body is not a Stripe event (id, type, data.object).") from None
        created = int(event.get("created") or 0)
        parsed, note = self._events(event_type, obj, created)
        return WebhookEvent(id=event_id, type=event_type, payload=event, events=parsed, note=note)

    def _events(self, event_type: str, obj: dict, created: int) -> tuple[list[PaymentEvent], str]:
        """Map one Stripe event to internal events (or none, with a note saying why)."""
        if event_type in SUBSCRIPTION_KINDS:
            items = (obj.get("items") or {}).get("data") or []
            status = "canceled" if event_type.endswith("deleted") else obj.get("status", "incomplete")
            return [
                PaymentEvent(
                    kind=SUBSCRIPTION_KINDS[event_type],
                    provider=self.name,
                    created=created,
                    subscription=obj.get("id") or "",
                    customer=obj.get("customer") or "",
                    price=((items[0].get("price") or {}).get("id") or "") if items else "",
                    status=status,
                    period_end=_subscription_period_end(obj),
                )
            ], ""
        if event_type in ("invoice.paid", "invoice.payment_failed"):
            sub_id = obj.get("subscription") or (((obj.get("parent") or {}).get("subscription_details")) or {}).get(
                "subscription"
            )
            lines = (obj.get("lines") or {}).get("data") or []
            end = (lines[0].get("period") or {}).get("end") if lines else None
            kind = (
                EventKind.SUBSCRIPTION_RENEWED
                if event_type == "invoice.paid"
                else EventKind.SUBSCRIPTION_PAYMENT_FAILED
            )
            return [
                PaymentEvent(
                    kind=kind,
                    provider=self.name,
                    created=created,
                    subscription=sub_id or "",
                    customer=obj.get("customer") or "",
                    status="active" if kind == EventKind.SUBSCRIPTION_RENEWED else "past_due",
                    period_end=datetime.fromtimestamp(end, tz=UTC) if end else None,
                )
            ], ""
        if event_type.startswith("checkout.session.") and obj.get("mode") == "subscription":
            return [], "subscription checkout; the subscription events carry its state"
        session_kind = {
            "checkout.session.completed": EventKind.PAID
            if obj.get("payment_status") == "paid"
            else EventKind.SUBMITTED,
            "checkout.session.async_payment_succeeded": EventKind.PAID,
            "checkout.session.async_payment_failed": EventKind.FAILED,
            "checkout.session.expired": EventKind.CHECKOUT_EXPIRED,
        }.get(event_type)
        if session_kind is not None:
            return [
                PaymentEvent(
                    kind=session_kind,
                    provider=self.name,
                    created=created,
                    order=obj.get("client_reference_id") or (obj.get("metadata") or {}).get("order") or "",
                    checkout=obj.get("id") or "",
                    payment_ref=obj.get("payment_intent") or "",
                    amount_cents=obj.get("amount_total"),
                )
            ], ""
        if event_type == "charge.refunded":
            return [
                PaymentEvent(
                    kind=EventKind.REFUNDED,
                    provider=self.name,
                    created=created,
                    payment_ref=obj.get("payment_intent") or "",
                    amount_cents=obj.get("amount", 0),
                    refunded_cents=obj.get("amount_refunded", 0),
                )
            ], ""
        return [], f"stored; {event_type} needs no action here"


def _subscription_period_end(obj: dict) -> datetime | None:
    end = obj.get("current_period_end")
    if end is None:  # newer API versions keep the period on the subscription items
        items = (obj.get("items") or {}).get("data") or []
        end = items[0].get("current_period_end") if items else None
    return datetime.fromtimestamp(end, tz=UTC) if end else None
