"""Paying for orders through a provider: open and expire checkouts, refund.

These read and write only payment records (checkout attempts, refund requests); the order's own state moves
when the provider's webhook confirms, through the handlers the order services register.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

import mesh
from commerce.errors import CommerceError
from commerce.models import ONLINE_METHODS, CheckoutAttempt, Order, RefundRequest
from commerce.payments.base import PaymentProvider, to_cents
from commerce.payments.providers import provider_for_method

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def checkout_start(*, order: Order, provider: PaymentProvider | None = None) -> CheckoutAttempt:
    """Open a checkout for a pending order paid online (card, ACH: Stripe; lemonsqueezy: Lemon Squeezy) at the
    provider of its payment method and return the attempt (its ``url`` is the redirect)."""
    if order.payment_method not in ONLINE_METHODS:
        raise CommerceError(
            f"Order {order.number} is paid by {order.payment_method}, not through a payment provider.",
            code="not_stripe",
        )
    provider = provider or provider_for_method(order.payment_method)
    if reason := provider.unavailable_reason():
        raise CommerceError(reason, code=f"{provider.name}_unavailable", status=409)
    if order.status != Order.Status.PENDING_PAYMENT or order.payment_submitted_at:
        raise CommerceError(f"Order {order.number} is not awaiting payment.", code="not_payable", status=409)
    if order.payment_deadline <= timezone.now():
        raise CommerceError(
            f"The price lock for {order.number} has expired; re-quote.", code="lock_expired", status=409
        )
    attempt = order.checkout_attempts.count() + 1
    checkout = provider.order_checkout(order=order, attempt=attempt)
    return CheckoutAttempt.objects.create(
        order=order, attempt=attempt, session_id=checkout.id, url=checkout.url, amount_cents=to_cents(order.total)
    )


def checkout_expire_open(*, order: Order, provider: PaymentProvider | None = None) -> int:
    """Expire the order's open checkouts at the provider (the lock ended first); return how many."""
    provider = provider or provider_for_method(order.payment_method)
    if provider is None:
        return 0
    expired = 0
    for attempt in order.checkout_attempts.filter(status=CheckoutAttempt.Status.OPEN):
        if not provider.checkout_expire(checkout_id=attempt.session_id):
            # Already completed or expired there: its webhook decides; never leave a payable session behind.
            logger.warning("Could not expire %s for %s", attempt.session_id, order.number)
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


def order_refund(
    *, order: Order, by: User, lines: dict[int, int] | None = None, provider: PaymentProvider | None = None
) -> RefundRequest:
    """Refund an order paid online (Stripe or Lemon Squeezy), whole or by line quantities; the order follows the provider's webhook.

    A line refund returns the line total pro rata (rounded half-up to cents). Refunding more units than remain
    unrefunded is refused. The provider refund carries an idempotency key per order and request number.
    Publishes ``order.refund_requested``.
    """
    if order.payment_method not in ONLINE_METHODS or not order.payment_intent:
        raise CommerceError(
            f"Order {order.number} was not paid through a payment provider; refund it by wire.", code="not_stripe"
        )
    provider = provider or provider_for_method(order.payment_method)
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
    refund_id = provider.refund(
        order=order, amount_cents=to_cents(amount) if lines else None, number=order.refunds.count() + 1
    )
    request = RefundRequest.objects.create(
        order=order,
        amount=amount,
        lines={str(k): v for k, v in (lines or {}).items()},
        stripe_refund_id=refund_id,
        requested_by=by,
    )
    mesh.publish("order.refund_requested", {"number": order.number, "amount": amount, "refund": refund_id})
    return request
