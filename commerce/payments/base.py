"""The payment-provider interface: what the order and subscription code asks of any provider.

A provider opens checkouts (for an order or a plan), expires them, refunds, and turns a signed webhook body into
internal :class:`PaymentEvent` values. The order and subscription services see only these types, never a
provider's SDK or wire format, so a second provider is one more module beside ``stripe.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from commerce.models import Company, Order, Plan


class EventKind(StrEnum):
    """What a provider event means for DreamNet, whatever the provider called it."""

    PAID = "paid"  # an order's payment succeeded
    SUBMITTED = "submitted"  # an order's bank debit was submitted; it settles (PAID or FAILED) later
    FAILED = "failed"  # an order's payment failed
    CHECKOUT_EXPIRED = "checkout_expired"  # a checkout ended unpaid
    REFUNDED = "refunded"  # money went back; ``refunded_cents`` of ``amount_cents`` so far
    SUBSCRIPTION_STARTED = "subscription_started"
    SUBSCRIPTION_UPDATED = "subscription_updated"  # the provider changed status, plan or period
    SUBSCRIPTION_RENEWED = "subscription_renewed"  # a period's invoice was paid
    SUBSCRIPTION_PAYMENT_FAILED = "subscription_payment_failed"
    SUBSCRIPTION_CANCELLED = "subscription_cancelled"


ORDER_KINDS = frozenset(
    {EventKind.PAID, EventKind.SUBMITTED, EventKind.FAILED, EventKind.CHECKOUT_EXPIRED, EventKind.REFUNDED}
)
SUBSCRIPTION_KINDS = frozenset(EventKind) - ORDER_KINDS


@dataclass(frozen=True)
class PaymentEvent:
    """One internal event parsed from a provider event.

    Order events name the order (``order``, its number) or the payment (``payment_ref``); subscription events
    name the provider's subscription, customer and price. ``created`` is the provider's event time (Unix s),
    used to ignore deliveries older than the last applied one.
    """

    kind: EventKind
    provider: str
    created: int = 0
    order: str = ""
    checkout: str = ""
    payment_ref: str = ""
    amount_cents: int | None = None
    refunded_cents: int | None = None
    subscription: str = ""
    customer: str = ""
    price: str = ""
    status: str = ""
    period_end: datetime | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event: its id (stored once), type, raw body, and what it means.

    ``events`` is empty for provider events that need no action; ``note`` then says why.
    """

    id: str
    type: str
    payload: dict[str, Any]
    events: list[PaymentEvent] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Checkout:
    """A hosted checkout the buyer is sent to."""

    id: str
    url: str


class WebhookRejected(Exception):
    """A webhook body that is unsigned, badly signed, stale or malformed (HTTP 400, nothing stored)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PaymentProvider(Protocol):
    """What a payment provider implements. Methods raise CommerceError (code ``<provider>_error``, 502) when
    the provider refuses, and never simulate a payment."""

    name: str

    def unavailable_reason(self) -> str | None:
        """Return why this provider cannot take payments on this node (no key), or None when it can."""

    def order_checkout(self, *, order: Order, attempt: int) -> Checkout:
        """Open a hosted checkout for a pending order; ``attempt`` numbers the tries (idempotency)."""

    def plan_checkout(self, *, company: Company, plan: Plan) -> Checkout:
        """Open a hosted checkout that subscribes ``company`` to ``plan``."""

    def checkout_expire(self, *, checkout_id: str) -> bool:
        """Close an open checkout so it can no longer be paid; False when the provider would not."""

    def refund(self, *, order: Order, amount_cents: int | None, number: int) -> str:
        """Refund ``amount_cents`` of the order's payment (None: all of it); return the provider's refund id.
        ``number`` counts the order's refunds (idempotency)."""

    def billing_portal_url(self, *, company: Company, return_url: str) -> str:
        """Return a page where the company manages its subscriptions."""

    def plan_sync(self, *, plan: Plan) -> list[str]:
        """Create or update the plan's product and recurring price at the provider; return what changed."""

    def webhook_parse(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        """Verify the signature and parse the body; raise WebhookRejected when either fails."""

    def event_parse(self, body: dict) -> WebhookEvent:
        """Turn a stored, already verified event body into internal events again (pending events are retried
        from the inbox this way); raise WebhookRejected when it is not the provider's event."""

    def company_for_customer(self, customer: str) -> Company | None:
        """Return the company behind a provider customer id."""

    def plan_for_price(self, price: str) -> Plan | None:
        """Return the plan sold under a provider price id."""


def to_cents(amount: Decimal) -> int:
    """Return a Decimal amount of dollars as integer cents; refuses fractions of a cent."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)
