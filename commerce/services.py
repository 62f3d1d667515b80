"""Commerce writes: the spot feed, carts, quote locks, execution, order transitions, expiry and compliance.

Every state change runs in a transaction, takes the rows that race with ``select_for_update`` (quote, then
products in primary-key order), and publishes ``order.*`` / ``price.tick`` events in the same transaction
(mesh.publish seals them with the write and pushes them live after commit).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

import mesh
from commerce import pricing
from commerce.errors import CommerceError  # defined there (payments raises it too); callers import it here
from commerce.feeds import FeedError, MetalpriceApiProvider, MetalsDevProvider, SimulatedProvider
from commerce.models import (
    ONLINE_METHODS,
    CartLine,
    Company,
    ComplianceFlag,
    LedgerEntry,
    Membership,
    Order,
    OrderLine,
    PaymentMethod,
    Product,
    Quote,
    QuoteLine,
    SpotTick,
)
from commerce.notifications import order_confirmation_send
from commerce.payments import (
    EventKind,
    EventNotReady,
    PaymentEvent,
    checkout_expire_open,
    method_fee,
    methods_for_country,
    online_unavailable_reason,
    payment_event_handler,
    to_cents,
)
from commerce.selectors import Spot, spot_latest, spot_ticked

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


# Spot feed ----------------------------------------------------------------------------------------------


def _providers() -> list:
    built = []
    for name in settings.SPOT_PROVIDERS:
        if name == "simulated":
            built.append(SimulatedProvider(seed=settings.SPOT_SIMULATED_SEED, spread_bps=settings.SPOT_SPREAD_BPS))
        elif name == "metalpriceapi" and settings.METALPRICEAPI_KEY:
            built.append(
                MetalpriceApiProvider(
                    api_key=settings.METALPRICEAPI_KEY,
                    base_url=settings.METALPRICEAPI_URL,
                    spread_bps=settings.SPOT_SPREAD_BPS,
                )
            )
        elif name == "metalsdev" and settings.METALSDEV_KEY:
            built.append(
                MetalsDevProvider(
                    api_key=settings.METALSDEV_KEY, base_url=settings.METALSDEV_URL, spread_bps=settings.SPOT_SPREAD_BPS
                )
            )
        else:
            logger.warning("Spot provider %s is listed but has no API key; skipping it", name)
    return built


def spot_refresh(*, now: datetime | None = None) -> list[SpotTick]:
    """Fetch ticks from the first provider that answers (in DREAMNET_SPOT_PROVIDERS order), store and publish them.

    Raises CommerceError(code="feed_down") naming every provider's failure when none answers.
    """
    now = now or timezone.now()
    latest = spot_latest()
    previous = {metal: (s.bid + s.ask) / 2 for metal, s in latest.items()}
    elapsed = min((now - s.fetched_at).total_seconds() for s in latest.values()) if latest else 0.0
    failures = []
    for provider in _providers():
        try:
            raw = provider.fetch(previous=previous, now=now, elapsed_s=elapsed)
        except FeedError as exc:
            failures.append(str(exc))
            logger.warning("Spot provider failed, trying the next: %s", exc)
            continue
        with transaction.atomic():
            ticks = SpotTick.objects.bulk_create(
                SpotTick(
                    metal=t.metal, bid=t.bid, ask=t.ask, currency=t.currency, source=t.source, fetched_at=t.fetched_at
                )
                for t in raw
            )
            payload = {"ticks": [{"metal": t.metal, "bid": t.bid, "ask": t.ask, "source": t.source} for t in raw]}
            mesh.publish("price.tick", payload)
            spot_ticked()
        return ticks
    raise CommerceError(
        "No spot provider answered: " + ("; ".join(failures) or "none is configured with a key"),
        code="feed_down",
        status=503,
    )


def _fresh_spot(metal: str) -> Spot:
    spot = spot_latest().get(metal)
    if spot is None:
        raise CommerceError(f"No {metal} price yet; the spot feed has not reported.", code="no_spot", status=503)
    if spot.stale:
        raise CommerceError(
            f"The {metal} price is {spot.age_s:.0f} s old (limit {settings.SPOT_MAX_AGE_S} s); prices cannot be "
            "locked from a stale feed. Try again when the feed is back.",
            code="stale_feed",
            status=503,
        )
    return spot


# Companies -----------------------------------------------------------------------------------------------


def company_create(
    *, slug: str, name: str, verified: bool = False, country: str = "US", currency: str = "USD"
) -> Company:
    """Create a company; its country (ISO alpha-2) and currency choose the payment methods it is offered."""
    if Company.objects.filter(slug=slug).exists():
        raise CommerceError(f"A company with the slug {slug!r} exists already.", code="company_exists", status=409)
    if not (len(country) == 2 and country.isalpha()) or not (len(currency) == 3 and currency.isalpha()):
        raise CommerceError(
            f"Country is two letters (ISO 3166), currency three (ISO 4217); got {country!r}, {currency!r}.",
            code="bad_country",
        )
    return Company.objects.create(
        slug=slug,
        name=name,
        kyc_status=Company.Kyc.VERIFIED if verified else Company.Kyc.PENDING,
        country=country.upper(),
        currency=currency.upper(),
    )


def _company_kyc_set(*, company: Company, to: str, by: User, allowed_from: tuple[str, ...], note: str) -> Company:
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        if company.kyc_status not in allowed_from:
            raise CommerceError(
                f"{company.name} is KYC {company.kyc_status}; it cannot be marked {to}.",
                code="bad_kyc_transition",
                status=409,
            )
        previous = company.kyc_status
        company.kyc_status = to
        company.save(update_fields=["kyc_status"])
        # The event is part of the write (the log is the audit trail): it commits with it or not at all.
        mesh.publish(
            f"company.kyc_{to}",
            {"company": company.slug, "from": previous, "to": to, "note": note[:200]},
            actor=by,
        )
    return company


def company_kyc_verify(*, company: Company, by: User, note: str = "") -> Company:
    """Mark a pending or rejected company KYC *verified* (it may then execute orders).

    Locks the company row; refuses a company that is verified already. Publishes ``company.kyc_verified``
    with the operator as actor.
    """
    return _company_kyc_set(
        company=company, to=Company.Kyc.VERIFIED, by=by, allowed_from=(Company.Kyc.PENDING, Company.Kyc.REJECTED),
        note=note,
    )  # fmt: skip


def company_kyc_reject(*, company: Company, by: User, note: str = "") -> Company:
    """Mark a pending or verified company KYC *rejected* (it can quote but no longer execute).

    Locks the company row; refuses a company that is rejected already. Publishes ``company.kyc_rejected``
    with the operator as actor.
    """
    return _company_kyc_set(
        company=company, to=Company.Kyc.REJECTED, by=by, allowed_from=(Company.Kyc.PENDING, Company.Kyc.VERIFIED),
        note=note,
    )  # fmt: skip


def membership_add(*, company: Company, user: User, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise CommerceError(f"Role {role!r} is not one of {', '.join(Membership.Role.values)}.", code="bad_role")
    membership, _ = Membership.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return membership


def company_key_link(*, api_key, slug: str, username: str | None = None):
    """Scope ``api_key`` to the company ``slug``; it acts as ``username`` (a member) or the first admin."""
    from commerce.models import CompanyKey

    company = Company.objects.filter(slug=slug).first()
    if company is None:
        raise CommerceError(f"No company has the slug {slug!r}.", code="unknown_company", status=404)
    members = company.memberships.select_related("user").order_by("pk")
    if username:
        membership = members.filter(user__username=username).first()
        if membership is None:
            raise CommerceError(f"{username!r} is not a member of {company.name}.", code="not_member")
    else:
        membership = members.filter(role=Membership.Role.ADMIN).first() or members.first()
        if membership is None:
            raise CommerceError(f"{company.name} has no members to act as; add one first.", code="no_members")
    return CompanyKey.objects.create(api_key=api_key, company=company, acts_as=membership.user)


# Cart ----------------------------------------------------------------------------------------------------


def product_image_set(*, sku: str, artifact, by: User | None = None) -> Product:
    """Make the image ``artifact`` (a mesh Artifact of type image/*) the picture on product ``sku``'s page.

    Locks the product row; publishes ``product.image_set`` after commit. Raises CommerceError for an unknown
    product (404) or an artifact that is not an image (422).
    """
    if not str(artifact.media_type).startswith("image/"):
        raise CommerceError(
            f"Artifact {artifact.blake3[:12]}… is {artifact.media_type}; a product picture must be an image.",
            code="not_an_image",
            status=422,
        )
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            raise CommerceError(f"No product has the SKU {sku!r}.", code="unknown_product", status=404)
        product.image = artifact
        product.save(update_fields=["image"])
        payload = {"sku": product.sku, "artifact": artifact.blake3}
        mesh.publish_on_commit("product.image_set", payload, actor=by)
    return product


def _check_quantity(product: Product, quantity: int) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise CommerceError("Quantity must be a whole number of at least 1.", code="bad_quantity")
    if quantity < product.min_quantity:
        raise CommerceError(
            f"{product.sku} sells in quantities of at least {product.min_quantity}.", code="below_minimum"
        )
    if quantity > product.stock:
        raise CommerceError(
            f"Only {product.stock} of {product.sku} in stock; lower the quantity.",
            code="insufficient_stock",
            status=409,
        )


def cart_set(*, user: User, company: Company, sku: str, quantity: int) -> CartLine | None:
    """Set the cart quantity for ``sku`` (0 removes the line) and return the line."""
    product = Product.objects.filter(sku=sku, active=True).first()
    if product is None:
        raise CommerceError(f"No active product has the SKU {sku!r}.", code="unknown_sku", status=404)
    if quantity == 0:
        CartLine.objects.filter(user=user, company=company, product=product).delete()
        return None
    _check_quantity(product, quantity)
    line, _ = CartLine.objects.update_or_create(
        user=user, company=company, product=product, defaults={"quantity": quantity}
    )
    return line


# Quotes --------------------------------------------------------------------------------------------------


def quote_lock(
    *, company: Company, by: User, lines: list[tuple[str, int]], payment_method: str = PaymentMethod.WIRE
) -> Quote:
    """Freeze every line at the current feed into a locked quote that expires after the method's lock window.

    Refuses a stale feed, unknown SKUs, bad quantities and over-limit totals. Reserves nothing: stock is taken
    at execution.
    """
    if payment_method not in PaymentMethod.values:
        raise CommerceError(
            f"Payment method {payment_method!r} is not available; use one of {', '.join(PaymentMethod.values)}.",
            code="bad_payment_method",
        )
    if payment_method not in (offered := methods_for_country(company.country)):
        raise CommerceError(
            f"{PaymentMethod(payment_method).label} is not offered to companies in {company.country}; "
            f"use one of {', '.join(offered)}.",
            code="payment_method_not_offered",
            status=409,
        )
    if payment_method in ONLINE_METHODS and (reason := online_unavailable_reason(payment_method)):
        raise CommerceError(reason, code="payment_method_unavailable", status=409)
    surcharge, _ = method_fee(payment_method)
    if not lines:
        raise CommerceError("The quote has no lines; add products first.", code="empty_quote")
    skus = [sku for sku, _ in lines]
    if len(set(skus)) != len(skus):
        raise CommerceError("Each SKU may appear once in a quote; combine the quantities.", code="duplicate_sku")
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus, active=True).prefetch_related("tiers")}
    now = timezone.now()
    priced = []
    for sku, quantity in lines:
        product = products.get(sku)
        if product is None:
            raise CommerceError(f"No active product has the SKU {sku!r}.", code="unknown_sku", status=404)
        _check_quantity(product, quantity)
        spot = _fresh_spot(product.metal)
        tier = pricing.tier_for(product.price_tiers(), quantity)
        unit = pricing.unit_ask(spot_ask=spot.ask, fine_oz=product.fine_oz, tier=tier)
        line = pricing.line_total(unit=unit, quantity=quantity, surcharge_percent=surcharge)
        priced.append((product, quantity, spot, unit, line))
    total = sum((p[4] for p in priced), Decimal("0.00"))
    if total > company.per_order_limit:
        raise CommerceError(
            f"The quote totals ${total:,}, above {company.name}'s per-order limit of ${company.per_order_limit:,}.",
            code="over_limit",
        )
    with transaction.atomic():
        quote = Quote.objects.create(
            company=company,
            created_by=by,
            payment_method=payment_method,
            total=total,
            locked_at=now,
            expires_at=now + timedelta(minutes=settings.LOCK_MINUTES[payment_method]),
        )
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=quote,
                product=product,
                quantity=quantity,
                spot_ask=spot.ask,
                spot_source=spot.source,
                unit_price=unit,
                line_total=line,
            )
            for product, quantity, spot, unit, line in priced
        )
        mesh.publish("quote.locked", {"quote": quote.pk, "company": company.slug, "total": total})
    return quote


def quote_requote_diff(quote: Quote) -> list[dict]:
    """Return old vs current unit price per line, for the re-quote shown when a lock expired."""
    latest = spot_latest()
    diff = []
    for line in quote.lines.select_related("product"):
        product = line.product
        spot = latest.get(product.metal)
        now_unit = None
        if spot is not None:
            tier = pricing.tier_for(product.price_tiers(), line.quantity)
            now_unit = pricing.unit_ask(spot_ask=spot.ask, fine_oz=product.fine_oz, tier=tier)
        diff.append(
            {
                "sku": product.sku,
                "quantity": line.quantity,
                "locked_unit": str(line.unit_price),
                "current_unit": str(now_unit) if now_unit is not None else None,
            }
        )
    return diff


def quote_approve(*, quote: Quote, by: User) -> Quote:
    """Record an approver's approval of a locked quote inside its lock window."""
    membership = Membership.objects.filter(company=quote.company, user=by).first()
    if membership is None or not membership.can_approve:
        raise CommerceError("Only an approver or admin of the company can approve.", code="not_approver", status=403)
    with transaction.atomic():
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        _check_lock_open(quote)
        quote.approved_by, quote.approved_at = by, timezone.now()
        quote.save(update_fields=["approved_by", "approved_at"])
    return quote


def _check_lock_open(quote: Quote) -> None:
    if quote.status == Quote.Status.EXECUTED:
        raise CommerceError("This quote was already executed.", code="already_executed", status=409)
    if quote.status == Quote.Status.EXPIRED or quote.expires_at <= timezone.now():
        raise CommerceError(
            f"Price lock expired at {quote.expires_at:%H:%M:%S} UTC; re-quote to continue.",
            code="lock_expired",
            status=409,
            extra={"requote": quote_requote_diff(quote)},
        )


def _next_business_deadline(start: datetime, days: int) -> datetime:
    deadline = start
    while days:
        deadline += timedelta(days=1)
        if deadline.weekday() < 5:
            days -= 1
    return deadline


def _order_number() -> str:
    return f"PSD-{timezone.now():%y%m%d}-{secrets.token_hex(3).upper()}"


def quote_execute(*, quote: Quote, by: User, lock_token: str) -> Order:
    """Turn a locked quote into an order, reserving stock under row locks; never oversells.

    Locks the quote, then its products in primary-key order (so concurrent executions cannot deadlock), checks
    the lock token and window, KYC, approval and stock, then decrements stock and creates the order. Publishes
    ``order.created`` with the write; after commit, e-mails the buyer the confirmation.
    """
    if not quote.company.verified:
        raise CommerceError(
            f"{quote.company.name} is not verified yet (KYC {quote.company.kyc_status}); it can quote but not "
            "execute. Contact your account manager.",
            code="company_unverified",
            status=403,
        )
    with transaction.atomic():
        quote = Quote.objects.select_for_update().select_related("company").get(pk=quote.pk)
        if str(quote.lock_token) != str(lock_token):
            raise CommerceError("The lock token does not belong to this quote.", code="bad_lock_token", status=403)
        _check_lock_open(quote)
        if quote.total > quote.company.approval_threshold and quote.approved_by_id is None:
            raise CommerceError(
                f"Orders above ${quote.company.approval_threshold:,} need an approver's approval before the lock "
                f"expires at {quote.expires_at:%H:%M:%S} UTC.",
                code="approval_required",
                status=403,
            )
        lines = list(quote.lines.all())
        products = {
            p.pk: p
            for p in Product.objects.select_for_update().filter(pk__in=[x.product_id for x in lines]).order_by("pk")
        }
        for line in lines:
            product = products[line.product_id]
            if product.stock < line.quantity:
                raise CommerceError(
                    f"Only {product.stock} of {product.sku} left; the order for {line.quantity} cannot be filled. "
                    "Lower the quantity and re-quote.",
                    code="insufficient_stock",
                    status=409,
                )
        for line in lines:
            product = products[line.product_id]
            product.stock -= line.quantity
            product.save(update_fields=["stock"])
        now = timezone.now()
        order = Order.objects.create(
            number=_order_number(),
            company=quote.company,
            quote=quote,
            placed_by=by,
            total=quote.total,
            payment_method=quote.payment_method,
            wire_reference=f"PSD{secrets.token_hex(5).upper()}",
            # Card and ACH are paid inside the lock window; wire has business days.
            payment_deadline=(
                _next_business_deadline(now, settings.WIRE_DEADLINE_BUSINESS_DAYS)
                if quote.payment_method == PaymentMethod.WIRE
                else quote.expires_at
            ),
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product_id=x.product_id,
                quantity=x.quantity,
                spot_ask=x.spot_ask,
                unit_price=x.unit_price,
                line_total=x.line_total,
            )
            for x in lines
        )
        quote.status = Quote.Status.EXECUTED
        quote.save(update_fields=["status"])
        CartLine.objects.filter(user=by, company=quote.company).delete()
        _publish_order(order, "order.created")  # the buyer is on the order row (placed_by)
        order_id = order.pk
        # A mail server that is down must not fail an order that committed: robust logs the error instead.
        transaction.on_commit(lambda: order_confirmation_send(order_id=order_id), robust=True)
    return order


# Orders --------------------------------------------------------------------------------------------------

TRANSITIONS = {
    Order.Status.PENDING_PAYMENT: {Order.Status.PAID, Order.Status.CANCELLED, Order.Status.EXPIRED},
    Order.Status.PAID: {Order.Status.ALLOCATED, Order.Status.CANCELLED, Order.Status.REFUNDED},
    Order.Status.ALLOCATED: {Order.Status.SHIPPED, Order.Status.VAULTED, Order.Status.REFUNDED},
    Order.Status.SHIPPED: {Order.Status.DELIVERED},
    Order.Status.VAULTED: set(),
    Order.Status.DELIVERED: set(),
    Order.Status.CANCELLED: set(),
    Order.Status.EXPIRED: set(),
    Order.Status.REFUNDED: set(),
}


def _publish_order(order: Order, topic: str, *, by: User | None = None) -> None:
    # mesh.publish joins this transaction: the event commits with the order or not at all, and is pushed
    # live only after commit. ``by`` (a buyer or an operator) is the event's actor: the log is the audit trail.
    mesh.publish(
        topic,
        {"number": order.number, "company": order.company.slug, "status": order.status, "total": order.total},
        actor=by,
    )


def order_transition(*, order: Order, to: str, by: User | None = None, tracking: str = "") -> Order:
    """Move an order along its state machine; illegal moves are refused with the allowed ones named.

    ``paid`` issues a signed receipt and runs the large-transaction review; ``cancelled`` and ``expired``
    release stock. Locks the order (then its products). Publishes ``order.<status>`` with ``by`` as actor
    (None: the system, e.g. a payment webhook or the expiry sweep).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("company").get(pk=order.pk)
        allowed = TRANSITIONS[order.status]
        if to not in allowed:
            names = ", ".join(sorted(allowed)) or "none (final state)"
            raise CommerceError(
                f"Order {order.number} is {order.status}; it can move to: {names}.", code="bad_transition", status=409
            )
        if to == Order.Status.SHIPPED and not tracking.strip():
            raise CommerceError("Shipping needs a tracking number.", code="tracking_required")
        now = timezone.now()
        order.status = to
        if tracking:
            order.tracking = tracking.strip()
        if to == Order.Status.PAID:
            order.paid_at = now
            receipt = mesh.receipt_issue(
                operation="order.paid",
                subject=order.number,
                inputs={"quote": order.quote_id, "total": order.total, "method": order.payment_method},
                outputs={
                    "lines": [
                        {"sku": x.product.sku, "qty": x.quantity, "unit": x.unit_price}
                        for x in order.lines.select_related("product")
                    ]
                },
                started=order.created_at,
                finished=now,
                status="succeeded",
                cost=Decimal(0),
            )
            order.receipt_index = receipt.log_index
        if to in (Order.Status.CANCELLED, Order.Status.EXPIRED, Order.Status.REFUNDED):
            _release_stock(order)
        order.save()
        if to == Order.Status.PAID:
            _compliance_review(order)
        _publish_order(order, f"order.{to}", by=by)
    return order


def _release_stock(order: Order) -> None:
    lines = list(order.lines.all())
    products = {
        p.pk: p for p in Product.objects.select_for_update().filter(pk__in=[x.product_id for x in lines]).order_by("pk")
    }
    for line in lines:
        products[line.product_id].stock += line.quantity
        products[line.product_id].save(update_fields=["stock"])


def _compliance_review(order: Order) -> None:
    since = timezone.now() - timedelta(hours=24)
    window = Order.objects.filter(company=order.company, paid_at__gte=since).aggregate(t=Sum("total"))["t"] or 0
    threshold = Decimal(settings.COMPLIANCE_THRESHOLD_USD)
    if (
        window > threshold
        and not ComplianceFlag.objects.filter(company=order.company, cleared_at__isnull=True).exists()
    ):
        ComplianceFlag.objects.create(company=order.company, order=order, window_total=window, threshold=threshold)
        mesh.publish("compliance.flagged", {"company": order.company.slug, "order": order.number})


def compliance_clear(*, flag: ComplianceFlag, by: User, note: str = "") -> ComplianceFlag:
    """Record an operator's review of a compliance flag; refuses a flag that is cleared already.

    Locks the flag row. Publishes ``compliance.cleared`` with the operator as actor.
    """
    with transaction.atomic():
        flag = ComplianceFlag.objects.select_for_update().select_related("company").get(pk=flag.pk)
        if flag.cleared_at is not None:
            raise CommerceError(
                f"This flag was cleared at {flag.cleared_at:%Y-%m-%d %H:%M} UTC.", code="already_cleared", status=409
            )
        flag.cleared_by, flag.cleared_at, flag.note = by, timezone.now(), note[:200]
        flag.save(update_fields=["cleared_by", "cleared_at", "note"])
        mesh.publish("compliance.cleared", {"company": flag.company.slug, "flag": flag.pk, "note": flag.note}, actor=by)
    return flag


def order_expire(*, order: Order, now: datetime | None = None) -> Order:
    """Expire one unpaid order: release its stock and book the market loss on the company.

    Market loss = (locked unit price − bid-side price at expiry) × quantity, per line, when positive.
    """
    with transaction.atomic():
        order = order_transition(order=order, to=Order.Status.EXPIRED)
        latest = spot_latest()
        loss = Decimal("0.00")
        for line in order.lines.select_related("product"):
            spot = latest.get(line.product.metal)
            if spot is None:
                continue
            bid = pricing.unit_bid(
                spot_bid=spot.bid,
                fine_oz=line.product.fine_oz,
                percent=line.product.buyback_percent,
                fixed=line.product.buyback_fixed,
            )
            loss += pricing.cents((line.unit_price - bid) * line.quantity)
        LedgerEntry.objects.create(
            company=order.company,
            order=order,
            kind=LedgerEntry.Kind.MARKET_LOSS,
            amount=max(loss, Decimal("0.00")),
            memo=f"Order {order.number} expired unpaid; locked price minus bid at expiry.",
        )
    return order


def orders_expire(*, now: datetime | None = None) -> list[Order]:
    """Expire unpaid orders past their deadline (card/ACH: the lock window; their open Checkout Sessions are
    expired at Stripe first). Orders whose ACH debit was submitted wait for its settlement instead."""
    now = now or timezone.now()
    due = Order.objects.filter(
        status=Order.Status.PENDING_PAYMENT, payment_deadline__lte=now, payment_submitted_at__isnull=True
    )
    expired = []
    for order in due:
        if order.payment_method != PaymentMethod.WIRE:
            checkout_expire_open(order=order)
        expired.append(order_expire(order=order, now=now))
    return expired


# Payment events (registered with the payments inbox; payments never imports this module) ---------------


@payment_event_handler(EventKind.PAID, EventKind.SUBMITTED, EventKind.FAILED, EventKind.CHECKOUT_EXPIRED)
def order_checkout_event_apply(event: PaymentEvent) -> tuple[str, bool]:
    """Move the order a checkout event names; return (what happened, whether an operator should look).

    Orders only move forward: a late ``checkout_expired`` leaves a paid order paid. A paid total that differs
    from the order's is flagged, never applied. Publishes ``order.paid`` (through ``order_transition``),
    ``order.payment_submitted`` or ``order.payment_failed``.
    """
    order = Order.objects.filter(number=event.order).first() if event.order else None
    if order is None:
        return f"no order matches session {event.checkout}", True
    pending = order.status == Order.Status.PENDING_PAYMENT
    if event.kind in (EventKind.PAID, EventKind.SUBMITTED):
        if event.amount_cents is not None and event.amount_cents != to_cents(order.total):
            return f"{order.number}: Stripe total {event.amount_cents} ≠ order {to_cents(order.total)} cents", True
        if event.kind == EventKind.PAID:
            if not pending:
                return f"{order.number} is already {order.status}", False
            order_transition(order=order, to=Order.Status.PAID)
            return f"{order.number} paid", False
        if pending and not order.payment_submitted_at:
            Order.objects.filter(pk=order.pk).update(payment_submitted_at=timezone.now())
            mesh.publish("order.payment_submitted", {"number": order.number, "method": order.payment_method})
        return f"{order.number}: payment submitted, awaiting settlement", False
    if event.kind == EventKind.FAILED:
        if not pending:
            return f"{order.number} is already {order.status}", False
        order_transition(order=order, to=Order.Status.CANCELLED)
        mesh.publish("order.payment_failed", {"number": order.number})
        return f"{order.number}: bank debit failed; order cancelled and stock released", False
    if pending and not order.payment_submitted_at and not order.checkout_attempts.filter(status="open").exists():
        order_expire(order=order)
        return f"{order.number} expired unpaid", False
    return f"{order.number}: session expired, order stays {order.status}", False


@payment_event_handler(EventKind.REFUNDED)
def order_refund_event_apply(event: PaymentEvent) -> tuple[str, bool]:
    """Turn a fully refunded paid or allocated order *refunded* (stock returned); record a partial refund.

    Publishes ``order.refunded`` (through ``order_transition``) or ``order.refund_partial``.
    """
    order = Order.objects.filter(payment_intent=event.payment_ref or "-").first()
    if order is None and event.order:
        # The provider names the order (Lemon Squeezy): a refund that overtook the payment waits for it.
        order = Order.objects.filter(number=event.order).first()
        if order is not None and order.status == Order.Status.PENDING_PAYMENT:
            raise EventNotReady(f"{order.number} is not paid yet; the refund waits for the payment")
    if order is None:
        return f"no order has payment intent {event.payment_ref or None}", True
    if (event.refunded_cents or 0) >= (event.amount_cents or 0) and order.status in (
        Order.Status.PAID,
        Order.Status.ALLOCATED,
    ):
        order_transition(order=order, to=Order.Status.REFUNDED)
        return f"{order.number} refunded", False
    mesh.publish("order.refund_partial", {"number": order.number, "refunded_cents": event.refunded_cents})
    return f"{order.number}: partial refund of {event.refunded_cents} cents recorded", False
