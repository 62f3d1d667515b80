"""Commerce reads: spot, catalog prices, a member's company, carts, orders."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.safestring import mark_safe

from commerce import pricing
from commerce.errors import CommerceError
from commerce.models import (
    CartLine,
    Company,
    CompanyKey,
    IntelligenceBrief,
    Membership,
    Metal,
    Order,
    Product,
    SpotTick,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spot:
    metal: str
    bid: Decimal
    ask: Decimal
    currency: str
    source: str
    fetched_at: datetime
    tick_id: int | None = None  # the SpotTick row: what per-tick caches are keyed on

    @property
    def age_s(self) -> float:
        return (timezone.now() - self.fetched_at).total_seconds()

    @property
    def stale(self) -> bool:
        return self.age_s > settings.SPOT_MAX_AGE_S

    @property
    def simulated(self) -> bool:
        return self.source == "simulated"

    def as_dict(self) -> dict:
        return {
            "metal": self.metal,
            "bid": str(self.bid),
            "ask": str(self.ask),
            "currency": self.currency,
            "source": self.source,
            "fetched_at": self.fetched_at.isoformat(),
            "age_s": round(self.age_s, 1),
            "stale": self.stale,
        }


def spot_latest() -> dict[str, Spot]:
    """Return the newest tick per metal (metals never fetched are absent): one query, each metal's newest tick
    found through the (metal, -fetched_at) index."""
    latest: dict[str, Spot] = {}
    for tick in SpotTick.objects.raw(*_spot_latest_sql()):
        latest[tick.metal] = Spot(
            tick.metal, tick.bid, tick.ask, tick.currency, tick.source, tick.fetched_at, tick_id=tick.pk
        )
    return {metal: latest[metal] for metal in Metal.values if metal in latest}


SPOT_SHARED_KEY = "commerce:spot:latest"
SPOT_SHARED_S = 1


def spot_latest_shared() -> dict[str, Spot]:
    """The newest tick per metal for the public pages, shared through the cache for at most SPOT_SHARED_S second
    (one query per second per node instead of one per page view); ``spot_ticked`` drops it when ticks are stored.
    Never for pricing a lock, a quote or an order: those read :func:`spot_latest`."""
    try:
        spots = cache.get(SPOT_SHARED_KEY)
    except Exception as exc:
        logger.warning("spot prices read uncached: %s", exc)
        return spot_latest()
    if spots is None:
        spots = spot_latest()
        try:
            cache.set(SPOT_SHARED_KEY, spots, timeout=SPOT_SHARED_S)
        except Exception as exc:
            logger.warning("spot prices not shared: %s", exc)
    return spots


def spot_ticked() -> None:
    """New ticks were stored: drop the shared copy now and once they commit."""
    _drop_now_and_on_commit(SPOT_SHARED_KEY, "shared spot prices")


def _drop_now_and_on_commit(key: str, what: str) -> None:
    """Delete ``key`` from the cache now, and again once the current transaction commits: a reader in between
    would have kept what the database held before the commit."""

    def drop() -> None:
        try:
            cache.delete(key)
        except Exception as exc:  # the cache backend's own errors
            logger.warning("%s not dropped: %s", what, exc)

    drop()
    transaction.on_commit(drop)


_SPOT_LATEST_SQL: dict[str, tuple[str, tuple]] = {}


def _spot_latest_sql() -> tuple[str, tuple]:
    """The latest-tick query, compiled once per database vendor: it never changes, and compiling its four
    subqueries through the ORM cost more than running it."""
    from django.db import connection

    compiled = _SPOT_LATEST_SQL.get(connection.vendor)
    if compiled is None:
        newest = Q()
        for metal in Metal.values:
            newest |= Q(pk=Subquery(SpotTick.objects.filter(metal=metal).order_by("-fetched_at").values("pk")[:1]))
        compiled = SpotTick.objects.filter(newest).query.sql_with_params()
        _SPOT_LATEST_SQL[connection.vendor] = compiled
    return compiled


# Per-tick caches: what only changes with a spot tick (priced catalog rows, charts) is kept in the cache under
# a key naming the tick(s) it was computed from, so a new tick makes a new key and nothing is ever stale. The
# catalog's rows also depend on the products and their tiers: their version token changes whenever one is saved
# or deleted (commerce.apps connects catalog_changed), at once and again when the transaction commits.
CATALOG_VERSION_KEY = "commerce:catalog:version"
PER_TICK_TIMEOUT_S = 600


def catalog_version() -> str | None:
    """The catalog's version token, or None when the cache cannot answer (the page is then rendered uncached)."""
    try:
        version = cache.get(CATALOG_VERSION_KEY)
        if version is None:
            cache.add(CATALOG_VERSION_KEY, secrets.token_hex(8), timeout=None)
            version = cache.get(CATALOG_VERSION_KEY)
    except Exception as exc:  # the cache backend's own errors (redis.ConnectionError, OSError, ...)
        logger.warning("catalog rows rendered uncached: %s", exc)
        return None
    return version


def catalog_changed(**_kwargs) -> None:
    """A product or price tier changed: drop the catalog's version now and once the change commits. (Should the
    cache be down meanwhile, rows kept before are still keyed on their spot ticks, so they end with the next tick.)"""
    _drop_now_and_on_commit(CATALOG_VERSION_KEY, "catalog version")


def per_tick_key(name: str, *parts) -> str:
    return f"commerce:tick:{name}:" + ":".join(str(p) for p in parts)


def per_tick_get(key: str):
    try:
        return cache.get(key)
    except Exception as exc:
        logger.warning("per-tick cache unavailable: %s", exc)
        return None


def per_tick_set(key: str, value) -> None:
    try:
        cache.set(key, value, timeout=PER_TICK_TIMEOUT_S)
    except Exception as exc:
        logger.warning("per-tick cache unavailable: %s", exc)


def spot_chart_cached(metal: str, spot: Spot | None):
    """The product page's chart of the last hours of ``metal``, computed once per tick (None without ticks)."""
    from commerce.charts import spot_chart_svg

    if spot is None or spot.tick_id is None:
        return spot_chart_svg(spot_history(metal))
    key = per_tick_key("chart", metal, spot.tick_id)
    chart = per_tick_get(key)
    if chart is None:
        chart = spot_chart_svg(spot_history(metal)) or ""
        per_tick_set(key, str(chart))
    return mark_safe(chart) if chart else None  # noqa: S308 - our own SVG, escaped when it was built


def spot_history(metal: str, *, hours: int = 6, limit: int = 240) -> list[SpotTick]:
    since = timezone.now() - timedelta(hours=hours)
    ticks = SpotTick.objects.filter(metal=metal, fetched_at__gte=since).order_by("-fetched_at")[:limit]
    return list(reversed(ticks))


@dataclass(frozen=True)
class TierPrice:
    min_qty: int
    max_qty: int | None
    unit_ask: Decimal


def product_prices(product: Product, spot: Spot | None) -> dict:
    """Return the product's ask per tier and its bid (buyback) at ``spot``, or empty figures without a spot."""
    tiers = product.price_tiers()
    if spot is None:
        return {"tiers": [], "bid": None, "spot": None}
    rows = []
    for i, tier in enumerate(tiers):
        upper = tiers[i + 1].min_qty - 1 if i + 1 < len(tiers) else None
        rows.append(
            TierPrice(tier.min_qty, upper, pricing.unit_ask(spot_ask=spot.ask, fine_oz=product.fine_oz, tier=tier))
        )
    bid = pricing.unit_bid(
        spot_bid=spot.bid, fine_oz=product.fine_oz, percent=product.buyback_percent, fixed=product.buyback_fixed
    )
    return {"tiers": rows, "bid": bid, "spot": spot}


def catalog(*, metal: str | None = None) -> QuerySet[Product]:
    products = Product.objects.filter(active=True).prefetch_related("tiers")
    return products.filter(metal=metal) if metal else products


def membership_for(user) -> Membership | None:
    """Return the user's membership (a buyer belongs to one company here), or None."""
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("company").filter(user=user).order_by("pk").first()


def cart_lines(*, user, company: Company) -> list[CartLine]:
    return list(
        CartLine.objects.filter(user=user, company=company)
        .select_related("product")
        .prefetch_related("product__tiers")
        .order_by("pk")
    )


def cart_line_count(*, user, company: Company) -> int:
    """Return how many lines the user's cart for ``company`` holds (the header badge)."""
    return CartLine.objects.filter(user=user, company=company).count()


def orders_for_company(company: Company) -> QuerySet[Order]:
    return Order.objects.filter(company=company).order_by("-created_at")


def briefs_latest() -> list[IntelligenceBrief]:
    """Return the newest brief of each metal."""
    briefs = []
    for metal in Metal.values:
        brief = IntelligenceBrief.objects.filter(metal=metal).order_by("-day").first()
        if brief is not None:
            briefs.append(brief)
    return briefs


HEADLINE_FIELDS = ("last", "change_24h", "as_of")


def brief_public(brief: IntelligenceBrief, *, full: bool) -> dict:
    """The brief as served: everything for subscribers, the headline numbers for everyone else."""
    figures = brief.figures if full else {k: brief.figures.get(k) for k in HEADLINE_FIELDS}
    return {
        "metal": brief.metal,
        "day": brief.day.isoformat(),
        "figures": figures,
        "full": full,
        "narrative": brief.narrative if full else None,
        "narrative_source": brief.narrative_source if full else None,
    }


def buyer_for_request(request) -> tuple:
    """Return (user, company) an API request acts for: the company a sent key is linked to (as its ``acts_as``
    user), else the signed-in member's company. CommerceError 403 ``key_not_linked`` / ``no_company`` otherwise."""
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        link = CompanyKey.objects.select_related("company", "acts_as").filter(api_key=api_key).first()
        if link is None:
            raise CommerceError(
                "This API key is not linked to a company; create it with --company.", code="key_not_linked", status=403
            )
        return link.acts_as, link.company
    membership = membership_for(request.user)
    if membership is None:
        raise CommerceError(
            "Your account is not a member of a company yet; ask your company admin.", code="no_company", status=403
        )
    return request.user, membership.company
