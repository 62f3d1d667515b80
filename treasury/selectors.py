"""Treasury reads: a member's company, wallets, vaulted metal, snapshots and price history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from commerce.models import Company, Order, OrderLine, Product
from treasury.models import Holding, Snapshot, Wallet


def wallets_for(company: Company) -> QuerySet[Wallet]:
    return Wallet.objects.filter(company=company).order_by("label", "pk")


@dataclass(frozen=True)
class VaultedLine:
    product: Product
    quantity: int
    fine_oz: Decimal


def vaulted_metal(company: Company) -> list[VaultedLine]:
    """Return the company's vaulted metal per product: units and fine troy ounces (orders in status vaulted)."""
    rows = (
        OrderLine.objects.filter(order__company=company, order__status=Order.Status.VAULTED)
        .values("product")
        .annotate(units=Sum("quantity"))
        .order_by("product")
    )
    products = Product.objects.in_bulk([r["product"] for r in rows])
    return [
        VaultedLine(products[r["product"]], r["units"], products[r["product"]].fine_oz * r["units"])
        for r in rows
        if r["units"]
    ]


def snapshot_latest(company: Company) -> Snapshot | None:
    """Return the newest finished snapshot (the last good one stays shown while a newer one fails)."""
    return Snapshot.objects.filter(company=company, status=Snapshot.Status.DONE).order_by("-created_at", "-pk").first()


def snapshot_pending(company: Company) -> Snapshot | None:
    return Snapshot.objects.filter(
        company=company, status__in=[Snapshot.Status.QUEUED, Snapshot.Status.RUNNING]
    ).first()


def snapshots_for(company: Company) -> QuerySet[Snapshot]:
    return Snapshot.objects.filter(company=company).order_by("-created_at", "-pk")


def value_history(company: Company, *, days: int = 30, limit: int = 500) -> list[Snapshot]:
    """Return finished snapshots of the last ``days`` days, oldest first (the value-over-time chart)."""
    since = timezone.now() - timedelta(days=days)
    done = snapshots_for(company).filter(status=Snapshot.Status.DONE, created_at__gte=since)[:limit]
    return list(reversed(done))


def holdings_of(snapshot: Snapshot) -> list[Holding]:
    return list(snapshot.holdings.select_related("wallet", "product").order_by("kind", "-value_usd", "pk"))


def wallet_last_read(wallet: Wallet) -> list[Holding]:
    """Return the wallet's lines from the newest finished snapshot that read it (for carrying a failed read)."""
    line = (
        Holding.objects.filter(wallet=wallet, snapshot__status=Snapshot.Status.DONE)
        .exclude(status=Holding.Status.UNREADABLE)
        .order_by("-snapshot__created_at", "-snapshot_id")
        .first()
    )
    if line is None:
        return []
    return list(Holding.objects.filter(snapshot_id=line.snapshot_id, wallet=wallet).exclude(quantity=""))


def price_history(asset: str, *, days: int = 90, limit: int = 2000) -> list[tuple]:
    """Return distinct (price_at, price_usd) observations of ``asset`` recorded in snapshots, oldest first."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Holding.objects.filter(asset=asset, price_at__gte=since, price_usd__isnull=False)
        .values_list("price_at", "price_usd")
        .distinct()
        .order_by("-price_at")[:limit]
    )
    return list(reversed(rows))
