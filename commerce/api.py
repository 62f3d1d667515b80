"""/api/commerce/: spot, catalog, quotes (lock, approve, execute) and orders.

Public: spot and catalog. Buying: an API key with the ``commerce`` scope that is linked to one company
(``apikey create --scopes commerce --company SLUG``), which decides whenever it is sent and needs no CSRF token;
or, without a key, a signed-in member's session, whose writes need the CSRF token (``X-CSRFToken``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from commerce import selectors
from commerce.models import ONLINE_METHODS, Order, OrderLine, Quote
from commerce.payments import checkout_start
from commerce.services import quote_approve, quote_execute, quote_lock
from commerce.subscriptions import company_has_intelligence
from dreamnet.apikeys import apikey_authenticate
from dreamnet.ninja import AUTH_ERRORS, MAX_OFFSET, ApiError, ErrorOut, key_or_session

router = Router(tags=["commerce"])


# A company key decides when sent (no CSRF); otherwise a signed-in member, with CSRF (dreamnet/ninja.py).
BUYER_AUTH = key_or_session("commerce")
ERRORS = {**AUTH_ERRORS, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut}


def _buyer(request: HttpRequest):
    """Return (user, company) for the company-scoped key or the session member; 403 otherwise."""
    return selectors.buyer_for_request(request)


class SpotOut(Schema):
    metal: str
    bid: Decimal
    ask: Decimal
    currency: str
    source: str
    fetched_at: datetime
    age_s: float
    stale: bool


@router.get("/spot", response=list[SpotOut], summary="Latest spot per metal")
def spot(request: HttpRequest):
    """Latest bid/ask per metal with its source (`simulated` when the offline feed runs) and staleness."""
    return [s.as_dict() for s in selectors.spot_latest().values()]


class TierOut(Schema):
    min_qty: int
    max_qty: int | None
    unit_ask: Decimal


class ProductOut(Schema):
    sku: str
    name: str
    metal: str
    form: str
    weight: Decimal
    weight_unit: str
    fineness: Decimal
    fine_oz: Decimal
    brand: str
    min_quantity: int
    stock: int
    unit_bid: Decimal | None
    tiers: list[TierOut]
    spot_source: str | None
    spot_stale: bool | None


def _product_out(product, spots) -> dict:
    spot_row = spots.get(product.metal)
    prices = selectors.product_prices(product, spot_row)
    return {
        **{
            f: getattr(product, f)
            for f in (
                "sku",
                "name",
                "metal",
                "form",
                "weight",
                "weight_unit",
                "fineness",
                "fine_oz",
                "brand",
                "min_quantity",
                "stock",
            )
        },
        "unit_bid": prices["bid"],
        "tiers": [t.__dict__ for t in prices["tiers"]],
        "spot_source": spot_row.source if spot_row else None,
        "spot_stale": spot_row.stale if spot_row else None,
    }


@router.get("/products", response=list[ProductOut], summary="Catalog with current tier prices")
def products(request: HttpRequest, metal: str | None = None):
    spots = selectors.spot_latest()
    return [_product_out(p, spots) for p in selectors.catalog(metal=metal)]


@router.get("/products/{sku}", response={200: ProductOut, 404: ErrorOut}, summary="One product, all tier prices now")
def product(request: HttpRequest, sku: str):
    item = selectors.catalog().filter(sku=sku).first()
    if item is None:
        raise ApiError(404, "unknown_sku", f"No active product has the SKU {sku!r}.")
    return _product_out(item, selectors.spot_latest())


class LineIn(Schema):
    sku: str
    quantity: int = Field(..., ge=1, le=100_000)


class QuoteIn(Schema):
    lines: list[LineIn] = Field(..., min_length=1, max_length=100)
    payment_method: str = "wire"


class QuoteLineOut(Schema):
    sku: str
    quantity: int
    spot_ask: Decimal
    spot_source: str
    unit_price: Decimal
    line_total: Decimal


class QuoteOut(Schema):
    id: int
    status: str
    payment_method: str
    total: Decimal
    lock_token: str
    locked_at: datetime
    expires_at: datetime
    needs_approval: bool
    approved: bool
    lines: list[QuoteLineOut]


def _quote_out(quote: Quote) -> dict:
    lines = [
        {
            "sku": x.product.sku,
            "quantity": x.quantity,
            "spot_ask": x.spot_ask,
            "spot_source": x.spot_source,
            "unit_price": x.unit_price,
            "line_total": x.line_total,
        }
        for x in quote.lines.select_related("product")
    ]
    return {
        "id": quote.pk,
        "status": quote.status,
        "payment_method": quote.payment_method,
        "total": quote.total,
        "lock_token": str(quote.lock_token),
        "locked_at": quote.locked_at,
        "expires_at": quote.expires_at,
        "needs_approval": quote.total > quote.company.approval_threshold,
        "approved": quote.approved_by_id is not None,
        "lines": lines,
    }


@router.post("/quotes", response={201: QuoteOut, **ERRORS}, auth=BUYER_AUTH, summary="Lock prices into a quote")
def quote_create(request: HttpRequest, body: QuoteIn):
    """Price every line at the live feed and lock it for the payment method's window (10 min for wire)."""
    user, company = _buyer(request)
    quote = quote_lock(
        company=company,
        by=user,
        lines=[(x.sku, x.quantity) for x in body.lines],
        payment_method=body.payment_method,
    )
    return Status(201, _quote_out(quote))


def _company_quote(request: HttpRequest, quote_id: int) -> tuple:
    user, company = _buyer(request)
    return user, get_object_or_404(Quote.objects.select_related("company"), pk=quote_id, company=company)


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS}, auth=BUYER_AUTH)
def quote_detail(request: HttpRequest, quote_id: int):
    return _quote_out(_company_quote(request, quote_id)[1])


@router.post("/quotes/{quote_id}/approve", response={200: QuoteOut, **ERRORS}, auth=BUYER_AUTH)
def quote_approve_api(request: HttpRequest, quote_id: int):
    """An approver approves a quote above the company's approval threshold, inside the lock window."""
    user, quote = _company_quote(request, quote_id)
    return _quote_out(quote_approve(quote=quote, by=user))


class ExecuteIn(Schema):
    lock_token: str


class OrderLineOut(Schema):
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class OrderOut(Schema):
    number: str
    status: str
    payment_method: str
    total: Decimal
    payment_deadline: datetime
    wire_reference: str
    tracking: str
    created_at: datetime
    receipt_index: int | None
    checkout_url: str | None = None
    lines: list[OrderLineOut]


def _order_out(order: Order) -> dict:
    return {
        **{
            f: getattr(order, f)
            for f in (
                "number",
                "status",
                "payment_method",
                "total",
                "payment_deadline",
                "wire_reference",
                "tracking",
                "created_at",
                "receipt_index",
            )
        },
        "lines": [
            {"sku": x.product.sku, "quantity": x.quantity, "unit_price": x.unit_price, "line_total": x.line_total}
            for x in (
                order.lines.all()  # prefetched with their products by list endpoints
                if "lines" in getattr(order, "_prefetched_objects_cache", {})
                else order.lines.select_related("product")
            )
        ],
    }


class ExecuteErrorOut(Schema):
    detail: str
    code: str
    requote: list[dict] | None = None


@router.post(
    "/quotes/{quote_id}/execute",
    response={201: OrderOut, **ERRORS, 409: ExecuteErrorOut},
    auth=BUYER_AUTH,
    summary="Execute a locked quote into an order",
)
def quote_execute_api(request: HttpRequest, quote_id: int, body: ExecuteIn):
    """Create the order and reserve stock. 409 when the lock expired (with old vs current price per line) or
    stock ran out; 403 for an unverified company, a foreign token or a missing approval. Card, ACH and Lemon Squeezy
    orders come back with `checkout_url`, the provider's hosted checkout to send the payer to."""
    user, quote = _company_quote(request, quote_id)
    order = quote_execute(quote=quote, by=user, lock_token=body.lock_token)
    checkout = checkout_start(order=order) if order.payment_method in ONLINE_METHODS else None
    return Status(201, _order_out(order) | {"checkout_url": checkout.url if checkout else None})


@router.get("/orders", response={200: list[OrderOut], **AUTH_ERRORS}, auth=BUYER_AUTH)
def orders(request: HttpRequest, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    _user, company = _buyer(request)
    page = selectors.orders_for_company(company).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
    )[offset : offset + limit]
    return [_order_out(o) for o in page]


@router.get("/orders/{number}", response={200: OrderOut, **ERRORS}, auth=BUYER_AUTH)
def order(request: HttpRequest, number: str):
    _user, company = _buyer(request)
    return _order_out(get_object_or_404(Order, number=number, company=company))


class BriefOut(Schema):
    metal: str
    day: str
    figures: dict
    full: bool
    narrative: str | None
    narrative_source: str | None


@router.get("/intelligence", response={200: list[BriefOut], **AUTH_ERRORS}, summary="Latest brief per metal")
def intelligence(request: HttpRequest):
    """Subscribers (a signed-in member, or a company key sent in X-DREAMNET-KEY, of a company with an active
    plan) get the whole brief; everyone else the headline numbers."""
    company = None
    raw_key = request.headers.get("X-DREAMNET-KEY")
    if raw_key:
        request.api_key = apikey_authenticate(raw=raw_key, scope="commerce")
        company = _buyer(request)[1]
    elif (membership := selectors.membership_for(request.user)) is not None:
        company = membership.company
    full = company_has_intelligence(company)
    return [selectors.brief_public(b, full=full) for b in selectors.briefs_latest()]
