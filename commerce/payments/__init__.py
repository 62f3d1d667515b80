"""Payments: a provider interface (``base``), the Stripe adapter (``stripe``), the shared webhook inbox
(``inbox``) and the order-side payment records (``orders``).

Dependencies point one way: the order services and subscriptions import this package; it imports neither.
They apply provider events by registering handlers (``payment_event_handler``) for the kinds they own.
"""

from __future__ import annotations

from commerce.models import PaymentMethod
from commerce.payments.base import (
    Checkout,
    EventKind,
    PaymentEvent,
    PaymentProvider,
    WebhookEvent,
    WebhookRejected,
    to_cents,
)
from commerce.payments.inbox import EventNotReady, payment_event_handler, pending_retry
from commerce.payments.inbox import webhook_receive as _inbox_receive
from commerce.payments.orders import checkout_expire_open, checkout_start, order_refund, refundable_quantities
from commerce.payments.providers import (
    EU,
    METHOD_PROVIDER,
    ONLINE,
    method_fee,
    methods_for_country,
    payment_rules,
    provider_for_method,
    provider_get,
)

__all__ = [
    "EU",
    "METHOD_PROVIDER",
    "ONLINE",
    "Checkout",
    "EventKind",
    "EventNotReady",
    "PaymentEvent",
    "PaymentProvider",
    "WebhookEvent",
    "WebhookRejected",
    "checkout_expire_open",
    "checkout_start",
    "method_fee",
    "methods_for_country",
    "online_unavailable_reason",
    "order_refund",
    "payment_event_handler",
    "payment_options",
    "payment_rules",
    "pending_retry",
    "provider_for_method",
    "provider_get",
    "refundable_quantities",
    "to_cents",
    "webhook_receive",
]


def online_unavailable_reason(method: str | None = None) -> str | None:
    """Return why ``method`` (default: card, ACH and plans through Stripe) cannot be paid online on this node,
    or None when it can."""
    provider = provider_for_method(method) if method else provider_get()
    return provider.unavailable_reason() if provider else None


def payment_options(*, country: str) -> list[dict]:
    """The payment methods offered to a company in ``country``, in the rule's order, each with its provider, the
    fee it adds and, when it cannot be used on this node, why."""
    options = []
    for method in methods_for_country(country):
        percent, note = method_fee(method)
        provider = provider_for_method(method)
        options.append(
            {
                "method": method,
                "label": dict(PaymentMethod.choices)[method],
                "provider": provider.name if provider else "wire",
                "fee_percent": percent,
                "fee_note": note,
                "unavailable": provider.unavailable_reason() if provider else None,
            }
        )
    return options


def webhook_receive(*, payload: bytes, signature: str | None, provider: str = ONLINE) -> str:
    """Verify, store once and apply one event of the named provider (see ``inbox.webhook_receive``)."""
    return _inbox_receive(provider=provider_get(provider), payload=payload, signature=signature)
