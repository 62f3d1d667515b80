"""Payments: a provider interface (``base``), the Stripe adapter (``stripe``), the shared webhook inbox
(``inbox``) and the order-side payment records (``orders``).

Dependencies point one way: the order services and subscriptions import this package; it imports neither.
They apply provider events by registering handlers (``payment_event_handler``) for the kinds they own.
"""

from __future__ import annotations

from commerce.payments.base import (
    Checkout,
    EventKind,
    PaymentEvent,
    PaymentProvider,
    WebhookEvent,
    WebhookRejected,
    to_cents,
)
from commerce.payments.inbox import payment_event_handler
from commerce.payments.inbox import webhook_receive as _inbox_receive
from commerce.payments.orders import checkout_expire_open, checkout_start, order_refund, refundable_quantities
from commerce.payments.providers import ONLINE, provider_get

__all__ = [
    "ONLINE",
    "Checkout",
    "EventKind",
    "PaymentEvent",
    "PaymentProvider",
    "WebhookEvent",
    "WebhookRejected",
    "checkout_expire_open",
    "checkout_start",
    "online_unavailable_reason",
    "order_refund",
    "payment_event_handler",
    "provider_get",
    "refundable_quantities",
    "to_cents",
    "webhook_receive",
]


def online_unavailable_reason() -> str | None:
    """Return why card, ACH and plans cannot be paid online on this node, or None when they can."""
    return provider_get().unavailable_reason()


def webhook_receive(*, payload: bytes, signature: str | None, provider: str = ONLINE) -> str:
    """Verify, store once and apply one event of the named provider (see ``inbox.webhook_receive``)."""
    return _inbox_receive(provider=provider_get(provider), payload=payload, signature=signature)
