"""The webhook inbox, shared by every provider: verify and parse, store each provider event once, apply it once.

Internal events are applied through handlers that the order and subscription code registers for the kinds it
owns (``payment_event_handler``), so payments never imports the services that act on a payment.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction

from commerce.models import CheckoutAttempt, Order, StripeEvent
from commerce.payments.base import EventKind, PaymentEvent, PaymentProvider

# A handler applies one internal event and returns (what happened, whether an operator should look).
Handler = Callable[[PaymentEvent], tuple[str, bool]]
_handlers: dict[EventKind, Handler] = {}


def payment_event_handler(*kinds: EventKind) -> Callable[[Handler], Handler]:
    """Register the decorated function as the one handler of ``kinds``; a second, different one is refused."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            current = _handlers.get(kind)
            if current is not None and _name(current) != _name(handler):
                raise RuntimeError(f"Payment event {kind} is handled by {_name(current)} already.")
            _handlers[kind] = handler
        return handler

    return register


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def webhook_receive(*, provider: PaymentProvider, payload: bytes, signature: str | None) -> str:
    """Verify, store once, and act on a provider event; return what was done.

    Raises WebhookRejected (HTTP 400, nothing stored) for a missing, bad or stale signature or a malformed body.
    The event row is inserted before acting, in the same transaction, so a second delivery of the same event,
    even at the same moment on another worker, waits on the unique id and then does nothing.
    """
    received = provider.webhook_parse(payload=payload, signature=signature)
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                provider=provider.name, event_id=received.id, type=received.type, payload=received.payload
            )
            outcomes = [_apply(event) for event in received.events]
            result = "; ".join(text for text, _ in outcomes) or received.note
            row.result, row.needs_review = result[:200], any(review for _, review in outcomes)
            row.save(update_fields=["result", "needs_review"])
    except IntegrityError:
        return f"duplicate: {received.id} was already received"
    return result


def _apply(event: PaymentEvent) -> tuple[str, bool]:
    if event.checkout:
        _checkout_record(event)
    handler = _handlers.get(event.kind)
    if handler is None:
        return f"{event.kind}: no handler is registered on this node", True
    return handler(event)


def _checkout_record(event: PaymentEvent) -> None:
    """Mark the checkout completed or expired and keep the payment reference on its order."""
    CheckoutAttempt.objects.filter(session_id=event.checkout).update(
        status=CheckoutAttempt.Status.EXPIRED
        if event.kind == EventKind.CHECKOUT_EXPIRED
        else CheckoutAttempt.Status.COMPLETED
    )
    if event.order and event.payment_ref:
        Order.objects.filter(number=event.order, payment_intent="").update(payment_intent=event.payment_ref)
