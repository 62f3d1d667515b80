"""Treasury: a company's watched wallets and the valuation snapshots of everything it holds."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from treasury.addresses import CHAINS

MONEY = {"max_digits": 18, "decimal_places": 2}


class Wallet(models.Model):
    """A watch-only address a company holds assets at: chain, address (canonical form) and a label. No keys."""

    Chain = models.TextChoices("Chain", [(c, c) for c in CHAINS])

    company = models.ForeignKey("commerce.Company", on_delete=models.CASCADE, related_name="treasury_wallets")
    chain = models.CharField(max_length=16, choices=Chain.choices)
    address = models.CharField(max_length=64)
    label = models.CharField(max_length=80)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            # Two members adding the same address at once: the database keeps one.
            models.UniqueConstraint(fields=["company", "chain", "address"], name="treasury_wallet_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.chain} {self.address})"


class Snapshot(models.Model):
    """One valuation of a company's treasury: every holding with its quantity, price, source and age."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        REQUEST = "request"
        SCHEDULE = "schedule"

    company = models.ForeignKey("commerce.Company", on_delete=models.CASCADE, related_name="treasury_snapshots")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.REQUEST)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_usd = models.DecimalField(**MONEY, default=Decimal("0.00"))
    metal_usd = models.DecimalField(**MONEY, default=Decimal("0.00"))
    crypto_usd = models.DecimalField(**MONEY, default=Decimal("0.00"))
    stale_count = models.PositiveIntegerField(default=0)
    unpriced_count = models.PositiveIntegerField(default=0)
    carried_count = models.PositiveIntegerField(default=0)
    sources = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    risk = models.JSONField(null=True, blank=True)
    receipt_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # Serves snapshot_latest / the value-over-time chart (a company's snapshots, newest first).
            models.Index(fields=["company", "status", "-created_at"], name="treasury_snap_company_recent"),
        ]
        constraints = [
            # One snapshot queued or running per company: a second request while one is pending is refused.
            models.UniqueConstraint(
                fields=["company"],
                condition=models.Q(status__in=["queued", "running"]),
                name="treasury_snapshot_one_pending",
            ),
            # Within half a cent, not equal: SQLite keeps decimals as binary floats, so an exact sum can differ
            # in its last bits there (PostgreSQL's numeric is exact).
            models.CheckConstraint(
                condition=models.Q(
                    total_usd__gte=models.F("metal_usd") + models.F("crypto_usd") - Decimal("0.005"),
                    total_usd__lte=models.F("metal_usd") + models.F("crypto_usd") + Decimal("0.005"),
                ),
                name="treasury_snapshot_total_is_sum",
            ),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.pk} ({self.company}, {self.status}, ${self.total_usd})"


class Holding(models.Model):
    """One line of a snapshot: a metal product in the vault or an asset at a watched address.

    ``quantity`` is the exact decimal string (crypto amounts carry up to 36 places, more than any database
    decimal type keeps exactly everywhere). ``value_usd`` is set only for ``priced`` and ``carried`` lines:
    a stale price is shown but never counted, an unpriced or unreadable line is listed but not valued.
    """

    class Kind(models.TextChoices):
        METAL = "metal"
        CRYPTO = "crypto"

    class Status(models.TextChoices):
        PRICED = "priced"
        CARRIED = "carried", "carried (balance from an earlier read)"
        STALE = "stale", "stale price"
        UNPRICED = "unpriced"
        UNREADABLE = "unreadable"

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="holdings")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    wallet = models.ForeignKey(Wallet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey("commerce.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    chain = models.CharField(max_length=16, blank=True)
    address = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=120)
    asset = models.CharField(max_length=120)
    symbol = models.CharField(max_length=32)
    contract = models.CharField(max_length=64, blank=True)
    quantity = models.CharField(max_length=80, blank=True)
    unit = models.CharField(max_length=8, default="units")
    fine_oz = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    quantity_source = models.CharField(max_length=32)
    quantity_at = models.DateTimeField()
    price_usd = models.DecimalField(max_digits=30, decimal_places=12, null=True, blank=True)
    price_source = models.CharField(max_length=32, blank=True)
    price_at = models.DateTimeField(null=True, blank=True)
    value_usd = models.DecimalField(**MONEY, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["snapshot", "kind", "-value_usd", "pk"]
        indexes = [
            # Serves the risk model's price history (an asset's prices over recent snapshots).
            models.Index(fields=["asset", "price_at"], name="treasury_holding_asset_price"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value_usd__isnull=True) | models.Q(status__in=["priced", "carried"]),
                name="treasury_holding_value_only_when_priced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.symbol} ({self.status})"

    @property
    def quantity_decimal(self) -> Decimal | None:
        return Decimal(self.quantity) if self.quantity else None
