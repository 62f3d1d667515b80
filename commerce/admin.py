"""Operator screens for Prime Source Direct: catalog, companies, quotes, orders (with the fulfilment actions),
spot ticks, ledger and compliance flags. State changes go through the services, never raw edits."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from commerce.models import (
    CartLine,
    CheckoutAttempt,
    Company,
    CompanyKey,
    ComplianceFlag,
    IntelligenceBrief,
    LedgerEntry,
    Membership,
    Order,
    OrderLine,
    Plan,
    PriceTier,
    Product,
    ProviderEvent,
    Quote,
    QuoteLine,
    RefundRequest,
    SpotTick,
    Subscription,
)
from commerce.payments import METHOD_PROVIDER, order_refund, refundable_quantities
from commerce.services import (
    CommerceError,
    company_kyc_reject,
    company_kyc_verify,
    compliance_clear,
    order_transition,
)
from commerce.subscriptions import GRANT_STATUSES, plan_grant, subscription_grant_update


class PriceTierInline(admin.TabularInline):
    model = PriceTier
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "metal", "form", "fine_oz", "stock", "min_quantity", "active"]
    list_filter = ["metal", "form", "active", "brand"]
    list_editable = ["stock", "active"]
    search_fields = ["sku", "name", "brand"]
    readonly_fields = ["fine_oz"]
    raw_id_fields = ["image"]  # an artifact digest; operators attach generated images from the media console
    inlines = [PriceTierInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "currency", "kyc_status", "per_order_limit", "created_at"]
    list_filter = ["kyc_status", "country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    # KYC moves only through the actions below (a service: row lock, signed event naming the operator).
    readonly_fields = ["kyc_status"]
    inlines = [MembershipInline]
    actions = ["verify", "reject"]

    @admin.action(description="Mark KYC verified (the company can place orders)")
    def verify(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        _each(self, request, queryset, lambda c: company_kyc_verify(company=c, by=request.user), "Verified")

    @admin.action(description="Mark KYC rejected")
    def reject(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        _each(self, request, queryset, lambda c: company_kyc_reject(company=c, by=request.user), "Rejected")


def _each(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, act, done_label: str) -> None:
    """Apply ``act`` (a service call) to each selected row; report how many it did and each refusal."""
    done = 0
    for row in queryset:
        try:
            act(row)
            done += 1
        except CommerceError as exc:
            modeladmin.message_user(request, f"{row}: {exc.detail}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{done_label} {done}.", messages.SUCCESS)


class ReadOnlyLines(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class QuoteLineInline(ReadOnlyLines):
    model = QuoteLine


class OrderLineInline(ReadOnlyLines):
    model = OrderLine


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["pk", "company", "status", "payment_method", "total", "locked_at", "expires_at", "approved_by"]
    list_filter = ["status", "payment_method"]
    search_fields = ["company__name"]
    readonly_fields = [f.name for f in Quote._meta.fields]
    inlines = [QuoteLineInline]


def _transition_action(status: str, description: str):
    def action(modeladmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done, refused = 0, []
        for order in queryset:
            try:
                order_transition(order=order, to=status, by=request.user, tracking=order.tracking)
                done += 1
            except CommerceError as exc:
                refused.append(f"{order.number}: {exc.detail}")
        if done:
            modeladmin.message_user(request, f"{description}: {done} order(s).", messages.SUCCESS)
        for reason in refused:
            modeladmin.message_user(request, reason, messages.ERROR)

    action.short_description = description
    action.__name__ = f"mark_{status}"
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "company",
        "status",
        "total",
        "payment_method",
        "provider",
        "payment_intent",
        "payment_deadline",
        "wire_reference",
    ]
    list_filter = ["status", "payment_method"]
    search_fields = ["number", "wire_reference", "company__name"]
    readonly_fields = [f.name for f in Order._meta.fields if f.name != "tracking"]
    inlines = [OrderLineInline]
    actions = [
        _transition_action(Order.Status.PAID, "Mark wire received (paid)"),
        _transition_action(Order.Status.ALLOCATED, "Allocate metal"),
        _transition_action(Order.Status.SHIPPED, "Ship (enter tracking on the order first)"),
        _transition_action(Order.Status.VAULTED, "Vault"),
        _transition_action(Order.Status.DELIVERED, "Mark delivered"),
        _transition_action(Order.Status.CANCELLED, "Cancel (releases stock)"),
        "refund",
    ]

    @admin.display(description="provider")
    def provider(self, order: Order) -> str:
        return METHOD_PROVIDER.get(order.payment_method, "wire")

    @admin.action(description="Refund through its provider (whole order; it turns refunded when the provider confirms)")
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                order_refund(order=order, by=request.user)
                self.message_user(request, f"Refund requested for {order.number}.", messages.SUCCESS)
            except CommerceError as exc:
                self.message_user(request, f"{order.number}: {exc.detail}", messages.ERROR)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self):
        return [
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_lines), name="commerce_order_refund"),
            *super().get_urls(),
        ]

    def refund_lines(self, request: HttpRequest, pk: int):
        """Refund chosen quantities of chosen lines through the order's provider (Stripe or Lemon Squeezy)."""
        order = get_object_or_404(Order, pk=pk)
        remaining = refundable_quantities(order)
        if request.method == "POST":
            wanted = {}
            for line in order.lines.all():
                raw = request.POST.get(f"line-{line.pk}", "0").strip() or "0"
                if not raw.isdigit():
                    messages.error(request, f"Quantities are whole numbers; got {raw!r} for {line.product.sku}.")
                    return redirect(request.path)
                if int(raw):
                    wanted[line.pk] = int(raw)
            try:
                if not wanted:
                    raise CommerceError("Choose at least one unit to refund.", code="empty_refund")
                order_refund(order=order, by=request.user, lines=wanted)
            except CommerceError as exc:
                messages.error(request, exc.detail)
                return redirect(request.path)
            messages.success(
                request, f"Refund requested for {order.number}; it is recorded when the provider confirms."
            )
            return redirect("admin:commerce_order_change", order.pk)
        rows = [(line, remaining.get(line.pk, 0)) for line in order.lines.select_related("product")]
        context = {
            **self.admin_site.each_context(request),
            "order": order,
            "rows": rows,
            "provider": {"stripe": "Stripe", "lemonsqueezy": "Lemon Squeezy"}.get(
                METHOD_PROVIDER.get(order.payment_method, ""), "its provider"
            ),
            "title": f"Refund {order.number}",
        }
        return render(request, "admin/commerce/order/refund.html", context)


@admin.register(SpotTick)
class SpotTickAdmin(admin.ModelAdmin):
    list_display = ["metal", "bid", "ask", "source", "fetched_at"]
    list_filter = ["metal", "source"]
    date_hierarchy = "fetched_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["company", "kind", "amount", "order", "created_at"]
    list_filter = ["kind"]
    search_fields = ["company__name", "memo"]


@admin.register(ComplianceFlag)
class ComplianceFlagAdmin(admin.ModelAdmin):
    list_display = ["company", "window_total", "threshold", "order", "raised_at", "cleared_by", "cleared_at"]
    list_filter = [("cleared_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["company", "order", "window_total", "threshold", "raised_at", "cleared_by", "cleared_at"]
    actions = ["clear"]

    @admin.action(description="Clear selected flags (reviewed)")
    def clear(self, request: HttpRequest, queryset: QuerySet[ComplianceFlag]) -> None:
        note = f"Cleared in the admin by {request.user}"
        _each(self, request, queryset, lambda f: compliance_clear(flag=f, by=request.user, note=note), "Cleared")


class RecordAdmin(admin.ModelAdmin):
    """Payment records written by the payment services and webhooks: shown, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


admin.site.register(CartLine, list_display=["user", "company", "product", "quantity"])
admin.site.register(
    CheckoutAttempt,
    RecordAdmin,
    list_display=["order", "attempt", "session_id", "status", "amount_cents", "created_at"],
)
admin.site.register(
    RefundRequest, RecordAdmin, list_display=["order", "amount", "stripe_refund_id", "requested_by", "created_at"]
)


@admin.register(ProviderEvent)
class ProviderEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "provider", "type", "result", "needs_review", "pending", "received_at"]
    list_filter = ["needs_review", "pending", "provider", "type"]
    search_fields = ["event_id", "result"]
    readonly_fields = ["provider", "event_id", "type", "payload", "received_at", "result", "pending", "attempts"]


admin.site.register(CompanyKey, list_display=["api_key", "company", "acts_as"])


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "monthly_price", "stripe_price_id", "lemonsqueezy_variant_id", "active"]
    readonly_fields = ["stripe_product_id", "stripe_price_id", "stripe_price_amount"]


class SubscriptionForm(forms.ModelForm):
    status = forms.ChoiceField(choices=[(s, s) for s in GRANT_STATUSES], initial="active")

    class Meta:
        model = Subscription
        fields = ["company", "plan", "status", "current_period_end"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Stripe keeps its subscriptions true through webhooks; add one here to grant a plan to an invoiced customer."""

    list_display = ["company", "plan", "status", "current_period_end", "stripe_subscription_id", "granted_by"]
    list_filter = ["status", "plan"]
    readonly_fields = ["stripe_subscription_id", "last_event_created", "granted_by"]
    form = SubscriptionForm

    def get_readonly_fields(self, request: HttpRequest, obj: Subscription | None = None) -> list[str]:
        if obj is not None and obj.stripe_subscription_id:  # Stripe's webhooks keep it true
            return [f.name for f in Subscription._meta.fields]
        if obj is not None:  # a grant: its status and end change; whose and which plan do not
            return [*self.readonly_fields, "company", "plan"]
        return [*self.readonly_fields, "status"]  # a new grant starts active

    def save_model(self, request: HttpRequest, obj: Subscription, form, change: bool) -> None:
        """Grant or change a hand-granted plan through the subscription services (event, operator as actor)."""
        if change and obj.stripe_subscription_id:
            return  # every field is read-only: nothing to save
        if change:
            subscription_grant_update(
                subscription=obj, status=obj.status, until=obj.current_period_end, by=request.user
            )
        else:
            saved = plan_grant(company=obj.company, plan=obj.plan, by=request.user, until=obj.current_period_end)
            obj.pk, obj.status, obj.granted_by = saved.pk, saved.status, saved.granted_by


@admin.register(IntelligenceBrief)
class IntelligenceBriefAdmin(admin.ModelAdmin):
    list_display = ["metal", "day", "narrative_source", "created_at"]
    list_filter = ["metal"]
