"""Card and ACH payments through Stripe Checkout, and Stripe webhooks.

Off unless STRIPE_SECRET_KEY is set (test or live keys; STRIPE_API_BASE points the SDK at a Stripe-compatible
server). Without it the card and ACH options say why they are unavailable; no payment is ever simulated.

Amounts: each order line goes to Stripe as one item whose unit amount is the line's Decimal total in integer
cents (quantity 1, the real quantity in the name), so Stripe's total equals the order's total to the cent.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import mesh
from commerce.models import (
    STRIPE_METHODS,
    CheckoutAttempt,
    Company,
    Order,
    RefundRequest,
    StripeCustomer,
    StripeEvent,
)
from commerce.services import CommerceError, order_expire, order_transition

logger = logging.getLogger(__name__)
# Stripe refuses Checkout Sessions that live less than 30 minutes; ours are expired by us when the lock ends.
SESSION_MIN_LIFETIME = timedelta(minutes=31)


def stripe_unavailable_reason() -> str | None:
    if not settings.STRIPE_SECRET_KEY:
        return "Card and ACH payments are not set up on this node (no Stripe key); pay by wire."
    return None


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=2
    )


def to_cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def _stripe_call(what: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc)
        raise CommerceError(f"Stripe refused to {what}: {message}", code="stripe_error", status=502) from exc


def stripe_customer_for(company: Company) -> str:
    """Return the company's Stripe customer id, creating the customer once (idempotent per company)."""
    existing = StripeCustomer.objects.filter(company=company).first()
    if existing:
        return existing.customer_id
    customer = _stripe_call(
        "create the customer",
        _client().v1.customers.create,
        params={"name": company.name, "metadata": {"company": company.slug}},
        options={"idempotency_key": f"customer-{company.slug}-{company.pk}"},
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(company=company, customer_id=customer.id)
    except IntegrityError:
        pass  # a concurrent request stored the same customer (same idempotency key, same id)
    return StripeCustomer.objects.get(company=company).customer_id


def checkout_start(*, order: Order) -> CheckoutAttempt:
    """Open a Checkout Session for a pending card/ACH order and return the attempt (its ``url`` is the redirect)."""
    if reason := stripe_unavailable_reason():
        raise CommerceError(reason, code="stripe_unavailable", status=409)
    if order.payment_method not in STRIPE_METHODS:
        raise CommerceError(
            f"Order {order.number} is paid by {order.payment_method}, not through Stripe.", code="not_stripe"
        )
    if order.status != Order.Status.PENDING_PAYMENT or order.payment_submitted_at:
        raise CommerceError(f"Order {order.number} is not awaiting payment.", code="not_payable", status=409)
    if order.payment_deadline <= timezone.now():
        raise CommerceError(
            f"The price lock for {order.number} has expired; re-quote.", code="lock_expired", status=409
        )
    attempt = order.checkout_attempts.count() + 1
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
        "customer": stripe_customer_for(order.company),
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
    session = _stripe_call(
        "open the checkout",
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": f"checkout-{order.number}-{attempt}"},
    )
    return CheckoutAttempt.objects.create(
        order=order, attempt=attempt, session_id=session.id, url=session.url, amount_cents=to_cents(order.total)
    )


def checkout_expire_open(*, order: Order) -> int:
    """Expire the order's open Checkout Sessions at Stripe (the lock ended first); return how many."""
    expired = 0
    for attempt in order.checkout_attempts.filter(status=CheckoutAttempt.Status.OPEN):
        try:
            _client().v1.checkout.sessions.expire(attempt.session_id)
        except stripe.StripeError as exc:
            # Already completed or expired at Stripe: its webhook decides; never leave a payable session behind.
            logger.warning("Could not expire %s for %s: %s", attempt.session_id, order.number, exc)
            continue
        attempt.status = CheckoutAttempt.Status.EXPIRED
        attempt.save(update_fields=["status"])
        expired += 1
    return expired


def refundable_quantities(order: Order) -> dict[int, int]:
    """Return, per order line id, how many units have not been refunded yet."""
    refunded: dict[int, int] = {}
    for request in order.refunds.all():
        if not request.lines:
            return {line.pk: 0 for line in order.lines.all()}
        for line_id, qty in request.lines.items():
            refunded[int(line_id)] = refunded.get(int(line_id), 0) + qty
    return {line.pk: line.quantity - refunded.get(line.pk, 0) for line in order.lines.all()}


def order_refund(*, order: Order, by, lines: dict[int, int] | None = None) -> RefundRequest:
    """Refund a paid card/ACH order, whole or by line quantities; the order follows Stripe's webhook.

    A line refund returns the line total pro rata (rounded half-up to cents). Refunding more units than remain
    unrefunded is refused. The Stripe refund carries an idempotency key per order and request number.
    """
    if order.payment_method not in STRIPE_METHODS or not order.payment_intent:
        raise CommerceError(f"Order {order.number} was not paid through Stripe; refund it by wire.", code="not_stripe")
    if order.status not in (Order.Status.PAID, Order.Status.ALLOCATED):
        raise CommerceError(
            f"Order {order.number} is {order.status}; only paid or allocated orders are refunded.",
            code="not_refundable",
            status=409,
        )
    remaining = refundable_quantities(order)
    if lines:
        by_id = {line.pk: line for line in order.lines.all()}
        amount = Decimal("0.00")
        for line_id, qty in lines.items():
            if line_id not in by_id or not 0 < qty <= remaining.get(line_id, 0):
                raise CommerceError(
                    f"Line {line_id} of {order.number} has {remaining.get(line_id, 0)} unit(s) left to "
                    f"refund; {qty} asked.",
                    code="bad_refund_quantity",
                )
            line = by_id[line_id]
            amount += (line.line_total * qty / line.quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
    else:
        if not any(remaining.values()):
            raise CommerceError(f"Order {order.number} is refunded already.", code="already_refunded", status=409)
        amount = order.total - sum((r.amount for r in order.refunds.all()), Decimal("0.00"))
    number = order.refunds.count() + 1
    params = {"payment_intent": order.payment_intent, "metadata": {"order": order.number}}
    if lines:
        params["amount"] = to_cents(amount)
    refund = _stripe_call(
        "refund",
        _client().v1.refunds.create,
        params=params,
        options={"idempotency_key": f"refund-{order.number}-{number}"},
    )
    request = RefundRequest.objects.create(
        order=order,
        amount=amount,
        lines={str(k): v for k, v in (lines or {}).items()},
        stripe_refund_id=refund.id,
        requested_by=by,
    )
    mesh.publish("order.refund_requested", {"number": order.number, "amount": amount, "refund": refund.id})
    return request


# Webhooks -----------------------------------------------------------------------------------------------


class WebhookRejected(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Verify, store once, and act on a Stripe event; return what was done.

    Raises WebhookRejected (HTTP 400, nothing stored) for a missing, bad or stale signature or a malformed body.
    The event row is inserted before acting, in the same transaction, so a second delivery of the same event,
    even at the same moment on another worker, waits on the unique id and then does nothing.
    """
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected("Webhooks are not configured on this node (no STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE_S
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Signature check failed: {exc}") from exc
    except UnicodeDecodeError:
        raise WebhookRejected("The body is not UTF-8.") from None
    try:
        event = json.loads(payload)
        event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
    except (ValueError, KeyError, TypeError):
        raise WebhookRejected("The body is not a Stripe event (id, type, data.object).") from None
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(event_id=event_id, type=event_type, payload=event)
            result, review = _apply(event_type, obj, int(event.get("created") or 0))
            row.result, row.needs_review = result[:200], review
            row.save(update_fields=["result", "needs_review"])
    except IntegrityError:
        return f"duplicate: {event_id} was already received"
    return result


def _order_for_session(obj: dict) -> Order | None:
    number = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("order")
    return Order.objects.filter(number=number).first() if number else None


def _apply(event_type: str, obj: dict, created: int) -> tuple[str, bool]:
    """Act on one event; return (what happened, whether an operator should look). Never moves state backwards."""
    if event_type.startswith(("customer.subscription.", "invoice.")):
        from commerce.subscriptions import subscription_event_apply

        return subscription_event_apply(event_type, obj, created)
    if event_type.startswith("checkout.session.") and obj.get("mode") == "subscription":
        return "subscription checkout; the subscription events carry its state", False
    if event_type.startswith("checkout.session."):
        order = _order_for_session(obj)
        if order is None:
            return f"no order matches session {obj.get('id')}", True
        CheckoutAttempt.objects.filter(session_id=obj.get("id")).update(
            status=CheckoutAttempt.Status.EXPIRED
            if event_type.endswith("expired")
            else CheckoutAttempt.Status.COMPLETED
        )
        if obj.get("payment_intent") and not order.payment_intent:
            Order.objects.filter(pk=order.pk).update(payment_intent=obj["payment_intent"])
            order.refresh_from_db()
        return _apply_session(event_type, obj, order)
    if event_type == "charge.refunded":
        order = Order.objects.filter(payment_intent=obj.get("payment_intent") or "-").first()
        if order is None:
            return f"no order has payment intent {obj.get('payment_intent')}", True
        if obj.get("amount_refunded", 0) >= obj.get("amount", 0) and order.status in (
            Order.Status.PAID,
            Order.Status.ALLOCATED,
        ):
            order_transition(order=order, to=Order.Status.REFUNDED)
            return f"{order.number} refunded", False
        mesh.publish("order.refund_partial", {"number": order.number, "refunded_cents": obj.get("amount_refunded")})
        return f"{order.number}: partial refund of {obj.get('amount_refunded')} cents recorded", False
    return f"stored; {event_type} needs no action here", False


def _apply_session(event_type: str, obj: dict, order: Order) -> tuple[str, bool]:
    pending = order.status == Order.Status.PENDING_PAYMENT
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("amount_total") is not None and obj["amount_total"] != to_cents(order.total):
            return f"{order.number}: Stripe total {obj['amount_total']} ≠ order {to_cents(order.total)} cents", True
        if obj.get("payment_status") == "paid" or event_type.endswith("succeeded"):
            if not pending:
                return f"{order.number} is already {order.status}", False
            order_transition(order=order, to=Order.Status.PAID)
            return f"{order.number} paid", False
        if pending and not order.payment_submitted_at:
            Order.objects.filter(pk=order.pk).update(payment_submitted_at=timezone.now())
            mesh.publish("order.payment_submitted", {"number": order.number, "method": order.payment_method})
        return f"{order.number}: payment submitted, awaiting settlement", False
    if event_type == "checkout.session.async_payment_failed":
        if not pending:
            return f"{order.number} is already {order.status}", False
        order_transition(order=order, to=Order.Status.CANCELLED)
        mesh.publish("order.payment_failed", {"number": order.number})
        return f"{order.number}: bank debit failed; order cancelled and stock released", False
    if event_type == "checkout.session.expired":
        if pending and not order.payment_submitted_at and not order.checkout_attempts.filter(status="open").exists():
            order_expire(order=order)
            return f"{order.number} expired unpaid", False
        return f"{order.number}: session expired, order stays {order.status}", False
    return f"stored; {event_type} needs no action here", False
