"""The webhook inbox, shared by every provider: verify and parse, store each provider event once, apply it once.

Internal events are applied through handlers that the order and subscription code registers for the kinds it
owns (``payment_event_handler``), so payments never imports the services that act on a payment.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce.models import CheckoutAttempt, Order, ProviderEvent
from commerce.payments.base import EventKind, PaymentEvent, PaymentProvider, WebhookEvent

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


class EventNotReady(Exception):
    """Raised by a handler when an event cannot be applied yet (what it acts on has not arrived: a subscription's
    invoice before the subscription, a refund before the payment). The inbox undoes the handler's writes, keeps
    the event pending and applies it again later (``pending_retry``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# A pending event is tried this many times (on delivery, then once a minute) before an operator must look.
PENDING_MAX_ATTEMPTS = 60


def webhook_receive(*, provider: PaymentProvider, payload: bytes, signature: str | None) -> str:
    """Verify, store once, and act on a provider event; return what was done.

    Raises WebhookRejected (HTTP 400, nothing stored) for a missing, bad or stale signature or a malformed body.
    The event row is inserted before acting, in the same transaction, so a second delivery of the same event,
    even at the same moment on another worker, waits on the unique id and then does nothing. An event that
    cannot be applied yet is stored as pending (acknowledged, so the provider stops resending) and retried.

    One transaction and two statements besides the handlers' own: the insert (``ON CONFLICT DO NOTHING``, so a
    duplicate costs one statement and no error) and the row's outcome; an event with nothing to apply is one
    insert that carries its outcome. An event that is not ready
    rolls the whole transaction back (the row with the handlers' writes) and is then stored as pending on its
    own, again only if no other delivery stored it meanwhile.
    """
    received = provider.webhook_parse(payload=payload, signature=signature)
    duplicate = f"duplicate: {received.id} was already received"
    if not received.events:  # nothing to apply (an event DreamNet only keeps): storing it is the whole job
        note = received.note[:200]
        return note if _row_insert(provider.name, received, result=note, attempts=1, done=True) else duplicate
    try:
        with transaction.atomic():
            pk = _row_insert(provider.name, received)
            if pk is None:
                return duplicate
            outcomes = [_apply(event) for event in received.events]
            result = ("; ".join(text for text, _ in outcomes) or received.note)[:200]
            ProviderEvent.objects.filter(pk=pk).update(
                result=result, needs_review=any(review for _, review in outcomes), pending=False, attempts=1
            )
        return result
    except EventNotReady as exc:
        result = f"pending: {exc.detail}"[:200] if PENDING_MAX_ATTEMPTS > 1 else f"given up after 1 tries: {exc.detail}"
        with transaction.atomic():
            if (
                _row_insert(provider.name, received, result=result, attempts=1, pending=PENDING_MAX_ATTEMPTS > 1)
                is None
            ):
                return duplicate
        return result
    except IntegrityError:
        return duplicate


def _row_insert(provider: str, received: WebhookEvent, *, result: str = "", attempts: int = 0,
                pending: bool = False, done: bool = False) -> int | None:  # fmt: skip
    """Insert the event's row unless the provider's event id is stored already; return its pk, or None.

    A concurrent insert of the same id makes this wait until that transaction ends: None once it committed.
    """
    q = connection.ops.quote_name
    table = ProviderEvent._meta
    values = {
        "provider": provider,
        "event_id": received.id,
        "type": received.type,
        "payload": table.get_field("payload").get_db_prep_save(received.payload, connection),
        "received_at": connection.ops.adapt_datetimefield_value(timezone.now()),
        "result": result,
        "needs_review": not pending and not done and attempts > 0,  # a not-ready event given up on at once
        "pending": pending,
        "attempts": attempts,
    }
    columns = ", ".join(q(name) for name in values)
    marks = ", ".join(["%s"] * len(values))
    sql = (  # names from the model, values as parameters
        f"INSERT INTO {q(table.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({q('provider')}, {q('event_id')}) DO NOTHING RETURNING {q('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        row = cursor.fetchone()
    return row[0] if row else None


def _apply_row(row: ProviderEvent, received: WebhookEvent) -> str:
    """Apply the events of one stored row (all of them or, when one is not ready, none) and record the outcome."""
    try:
        with transaction.atomic():
            outcomes = [_apply(event) for event in received.events]
    except EventNotReady as exc:
        row.attempts += 1
        row.pending = row.attempts < PENDING_MAX_ATTEMPTS
        row.needs_review = not row.pending
        waiting = "pending" if row.pending else f"given up after {row.attempts} tries"
        row.result = f"{waiting}: {exc.detail}"[:200]
        row.save(update_fields=["result", "needs_review", "pending", "attempts"])
        return row.result
    result = "; ".join(text for text, _ in outcomes) or received.note
    row.result, row.needs_review, row.pending = result[:200], any(review for _, review in outcomes), False
    row.attempts += 1
    row.save(update_fields=["result", "needs_review", "pending", "attempts"])
    return result


def pending_retry(*, limit: int = 200) -> list[str]:
    """Apply again the stored events that could not be applied yet; return what each did.

    Each row is locked (others skip it) and applied in its own transaction, so a retry and a late duplicate
    delivery never both apply it.
    """
    from commerce.payments.providers import provider_get

    done = []
    for pk in ProviderEvent.objects.filter(pending=True).order_by("received_at").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = ProviderEvent.objects.select_for_update(skip_locked=True).filter(pk=pk, pending=True).first()
            if row is None:
                continue
            received = provider_get(row.provider).event_parse(row.payload)
            done.append(f"{row.provider} {row.event_id}: {_apply_row(row, received)}")
    return done


def _apply(event: PaymentEvent) -> tuple[str, bool]:
    if event.checkout or (event.order and event.payment_ref and event.kind == EventKind.PAID):
        _checkout_record(event)
    handler = _handlers.get(event.kind)
    if handler is None:
        return f"{event.kind}: no handler is registered on this node", True
    return handler(event)


def _checkout_record(event: PaymentEvent) -> None:
    """Mark the checkout completed or expired and keep the payment reference on its order.

    A provider whose events do not name the checkout (Lemon Squeezy names the order) completes the order's
    open checkouts when it is paid.
    """
    status = (
        CheckoutAttempt.Status.EXPIRED if event.kind == EventKind.CHECKOUT_EXPIRED else CheckoutAttempt.Status.COMPLETED
    )
    if event.checkout:
        CheckoutAttempt.objects.filter(session_id=event.checkout).update(status=status)
    else:
        CheckoutAttempt.objects.filter(order__number=event.order, status=CheckoutAttempt.Status.OPEN).update(
            status=status
        )
    if event.order and event.payment_ref:
        Order.objects.filter(number=event.order, payment_intent="").update(payment_intent=event.payment_ref)
