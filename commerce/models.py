"""Prime Source Direct: catalog, spot ticks, companies, carts, quotes, orders, ledger and compliance."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from commerce.pricing import Tier, fine_troy_oz

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE4 = {"max_digits": 16, "decimal_places": 4}


class Metal(models.TextChoices):
    GOLD = "XAU", "Gold"
    SILVER = "XAG", "Silver"
    PLATINUM = "XPT", "Platinum"
    PALLADIUM = "XPD", "Palladium"


class PaymentMethod(models.TextChoices):
    WIRE = "wire", "Wire transfer"
    CARD = "card", "Card (Stripe)"
    ACH = "ach", "ACH bank debit (Stripe)"
    LEMONSQUEEZY = "lemonsqueezy", "Card or local method, VAT handled (Lemon Squeezy)"


STRIPE_METHODS = (PaymentMethod.CARD, PaymentMethod.ACH)
# Methods paid through a hosted checkout of a payment provider (commerce.payments.providers maps each to one).
ONLINE_METHODS = (PaymentMethod.CARD, PaymentMethod.ACH, PaymentMethod.LEMONSQUEEZY)


class Product(models.Model):
    class Form(models.TextChoices):
        BAR = "bar"
        COIN = "coin"
        ROUND = "round"

    class WeightUnit(models.TextChoices):
        TROY_OZ = "ozt", "troy oz"
        GRAM = "g", "g"
        KILOGRAM = "kg", "kg"

    sku = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    metal = models.CharField(max_length=3, choices=Metal.choices)
    form = models.CharField(max_length=8, choices=Form.choices)
    weight = models.DecimalField(max_digits=10, decimal_places=4)
    weight_unit = models.CharField(max_length=3, choices=WeightUnit.choices)
    fineness = models.DecimalField(max_digits=5, decimal_places=4)
    fine_oz = models.DecimalField(max_digits=12, decimal_places=6, editable=False)
    brand = models.CharField(max_length=80)
    buyback_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("-1.000"))
    buyback_fixed = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    min_quantity = models.PositiveIntegerField(default=1)
    stock = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    image = models.ForeignKey(
        "mesh.Artifact", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Picture on the product page: an image artifact (a generated one, attached from a media mission).",
    )  # fmt: skip

    class Meta:
        ordering = ["metal", "fine_oz", "sku"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(min_quantity__gte=1), name="product_min_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(fineness__gt=0, fineness__lte=1), name="product_fineness_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.fine_oz = fine_troy_oz(self.weight, self.weight_unit, self.fineness)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("commerce:product", args=[self.sku])

    def price_tiers(self) -> list[Tier]:
        return [Tier(t.min_qty, t.percent, t.fixed) for t in self.tiers.all()]


class PriceTier(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tiers")
    min_qty = models.PositiveIntegerField()
    percent = models.DecimalField(max_digits=6, decimal_places=3)
    fixed = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["product", "min_qty"]
        constraints = [models.UniqueConstraint(fields=["product", "min_qty"], name="pricetier_unique_break")]

    def __str__(self) -> str:
        return f"{self.product.sku} ≥{self.min_qty}: +{self.percent}% +${self.fixed}"


class SpotTick(models.Model):
    metal = models.CharField(max_length=3, choices=Metal.choices)
    bid = models.DecimalField(**PRICE4)
    ask = models.DecimalField(**PRICE4)
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=32)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-fetched_at"]
        indexes = [
            # Serves spot_latest (newest tick per metal) and the product price chart (recent ticks of one metal).
            models.Index(fields=["metal", "-fetched_at"], name="spottick_metal_recent"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(ask__gte=models.F("bid")), name="spottick_ask_ge_bid")]

    def __str__(self) -> str:
        return f"{self.metal} {self.bid}/{self.ask} ({self.source})"


class Company(models.Model):
    class Kyc(models.TextChoices):
        PENDING = "pending"
        VERIFIED = "verified"
        REJECTED = "rejected"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    kyc_status = models.CharField(max_length=10, choices=Kyc.choices, default=Kyc.PENDING)
    per_order_limit = models.DecimalField(**MONEY, default=Decimal("250000.00"))
    approval_threshold = models.DecimalField(**MONEY, default=Decimal("25000.00"))
    # Where the company is established and the currency it pays in: they choose the payment providers offered.
    country = models.CharField(max_length=2, default="US", help_text="ISO 3166-1 alpha-2, e.g. US, DE, FR.")
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217, e.g. USD, EUR.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def verified(self) -> bool:
        return self.kyc_status == self.Kyc.VERIFIED


class Membership(models.Model):
    class Role(models.TextChoices):
        BUYER = "buyer"
        APPROVER = "approver"
        ADMIN = "admin"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.BUYER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"

    @property
    def can_approve(self) -> bool:
        return self.role in (self.Role.APPROVER, self.Role.ADMIN)


class CartLine(models.Model):
    """A line in a user's cart for a company; prices are computed live, never stored here."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user", "product"], name="cartline_unique_product")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.sku}"


class Quote(models.Model):
    """Prices frozen from the feed for a company, executable until ``expires_at`` with the lock token."""

    class Status(models.TextChoices):
        LOCKED = "locked"
        EXECUTED = "executed"
        EXPIRED = "expired"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="quotes")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    payment_method = models.CharField(max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.WIRE)
    lock_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LOCKED)
    total = models.DecimalField(**MONEY)
    locked_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-locked_at"]

    def __str__(self) -> str:
        return f"quote {self.pk} ({self.company}, ${self.total})"


class PricedLine(models.Model):
    """A product line frozen at a price: the spot it was priced from, the unit price (4 dp) and the line total."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    spot_ask = models.DecimalField(**PRICE4)
    unit_price = models.DecimalField(**PRICE4)
    line_total = models.DecimalField(**MONEY)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} at {self.unit_price}"


class QuoteLine(PricedLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    spot_source = models.CharField(max_length=32)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid"
        ALLOCATED = "allocated"
        SHIPPED = "shipped"
        VAULTED = "vaulted"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"
        EXPIRED = "expired"
        REFUNDED = "refunded"

    number = models.CharField(max_length=20, unique=True)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="orders")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="order")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_PAYMENT)
    payment_method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    total = models.DecimalField(**MONEY)
    payment_deadline = models.DateTimeField()
    wire_reference = models.CharField(max_length=24, unique=True)
    tracking = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    receipt_index = models.BigIntegerField(null=True, blank=True)
    # Card/ACH: set when the buyer completed Checkout; an ACH debit then settles days later, so the lock-window
    # expiry no longer applies to the order.
    payment_submitted_at = models.DateTimeField(null=True, blank=True)
    payment_intent = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves the expiry sweep (unpaid orders past their deadline).
            models.Index(fields=["status", "payment_deadline"], name="order_status_deadline"),
            # Serves the compliance window (a company's payments in the last 24 h).
            models.Index(fields=["company", "paid_at"], name="order_company_paid"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("commerce:order", args=[self.number])


class OrderLine(PricedLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        MARKET_LOSS = "market_loss", "Market loss on an expired order"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="ledger")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    memo = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.company}: {self.get_kind_display()} ${self.amount}"


class ComplianceFlag(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="flags")
    order = models.ForeignKey(Order, on_delete=models.PROTECT)
    window_total = models.DecimalField(**MONEY)
    threshold = models.DecimalField(**MONEY)
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.company}: ${self.window_total} in 24 h"


class CompanyKey(models.Model):
    """Scopes an API key to one company; requests with the key act as ``acts_as``, a member of it."""

    api_key = models.OneToOneField("dreamnet.ApiKey", on_delete=models.CASCADE, related_name="company_link")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_keys")
    acts_as = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.api_key} → {self.company}"


class StripeCustomer(models.Model):
    """One Stripe customer per company, created once and reused."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="stripe_customer")
    customer_id = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"{self.company} → {self.customer_id}"


class CheckoutAttempt(models.Model):
    """A Stripe Checkout Session opened for an order; ``attempt`` numbers the tries (idempotency key per try)."""

    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETED = "completed"
        EXPIRED = "expired"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="checkout_attempts")
    attempt = models.PositiveSmallIntegerField()
    session_id = models.CharField(max_length=255, unique=True)
    url = models.URLField(max_length=1000)
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "attempt"], name="checkoutattempt_unique_try")]

    def __str__(self) -> str:
        return f"{self.order} try {self.attempt} ({self.status})"


class ProviderEvent(models.Model):
    """Every payment-provider webhook event (the webhook inbox), stored once under the provider's event id before
    it is acted on; ``provider`` tells the providers apart. (Called StripeEvent until a second provider came.)"""

    provider = models.CharField(max_length=20, default="stripe")
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=200, blank=True)
    needs_review = models.BooleanField(default=False)
    # Stored but not applied yet (what it acts on has not arrived); the inbox retries it every minute.
    pending = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # Each provider event is stored (and applied) once; a second delivery waits on this and does nothing.
            models.UniqueConstraint(fields=["provider", "event_id"], name="providerevent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


# The inbox's first name, from when Stripe was the only provider; kept so existing callers keep working.
StripeEvent = ProviderEvent


class RefundRequest(models.Model):
    """An operator's refund of a paid card/ACH order; the order follows the ``charge.refunded`` webhook."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    # {order line id: quantity refunded}; empty for a whole-order refund.
    lines = models.JSONField(default=dict, blank=True)
    stripe_refund_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refund ${self.amount} of {self.order}"


class Plan(models.Model):
    """A market-intelligence plan; ``manage.py stripe_sync_plans`` creates its Stripe product and price."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    monthly_price = models.DecimalField(**MONEY)
    features = models.TextField(help_text="One feature per line.")
    stripe_product_id = models.CharField(max_length=64, blank=True)
    stripe_price_id = models.CharField(max_length=64, blank=True)
    stripe_price_amount = models.DecimalField(**MONEY, null=True, blank=True, editable=False)
    # The Lemon Squeezy variant sold for this plan (``manage.py lemonsqueezy_sync_plans`` finds it by name).
    lemonsqueezy_variant_id = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["monthly_price"]
        constraints = [models.CheckConstraint(condition=models.Q(monthly_price__gte=0), name="plan_price_not_negative")]

    def __str__(self) -> str:
        return f"{self.name} (${self.monthly_price}/month)"

    def feature_list(self) -> list[str]:
        return [line.strip() for line in self.features.splitlines() if line.strip()]


class Subscription(models.Model):
    """A company's plan, kept true by Stripe's subscription webhooks or granted by an operator."""

    ACCESS_STATUSES = ("active", "trialing")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(max_length=24)
    current_period_end = models.DateTimeField(null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Stripe's event.created of the last applied event: older deliveries never move the state backwards.
    last_event_created = models.BigIntegerField(default=0)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set for plans granted by hand to invoiced customers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.company} · {self.plan.name} ({self.status})"


class IntelligenceBrief(models.Model):
    metal = models.CharField(max_length=3, choices=Metal.choices)
    day = models.DateField()
    figures = models.JSONField()
    narrative = models.TextField()
    narrative_source = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "metal"]
        constraints = [models.UniqueConstraint(fields=["metal", "day"], name="brief_one_per_metal_per_day")]

    def __str__(self) -> str:
        return f"{self.metal} brief {self.day}"
