"""Operator screens for treasuries: wallets (added through the service, so addresses are validated), snapshots
(read-only records, with a queue action) and their holdings."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from treasury.errors import TreasuryError
from treasury.models import Holding, Snapshot, Wallet
from treasury.services import snapshot_request, wallet_add, wallet_remove


class WalletAdminForm(forms.ModelForm):
    class Meta:
        model = Wallet
        fields = ["company", "chain", "address", "label"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            from treasury.addresses import AddressError, address_clean

            try:
                data["address"] = address_clean(chain=data["chain"], address=data["address"])
            except AddressError as exc:
                self.add_error("address", exc.detail)
        return data


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    form = WalletAdminForm
    list_display = ["label", "company", "chain", "address", "created_at"]
    list_filter = ["chain", "company"]
    search_fields = ["label", "address", "company__name"]

    def get_readonly_fields(self, request, obj=None):
        return ["company", "chain", "address", "added_by", "created_at"] if obj else ["added_by", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            saved = wallet_add(company=obj.company, chain=obj.chain, address=obj.address, label=obj.label,
                               by=request.user)  # fmt: skip
        except TreasuryError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        wallet_remove(wallet=obj, by=request.user)


class HoldingInline(admin.TabularInline):
    model = Holding
    extra = 0
    can_delete = False
    fields = ["kind", "status", "symbol", "label", "address", "quantity", "price_usd", "price_source", "price_at",
              "value_usd", "note"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["pk", "company", "status", "trigger", "total_usd", "metal_usd", "crypto_usd", "stale_count",
                    "unpriced_count", "created_at"]  # fmt: skip
    list_filter = ["status", "trigger", "company"]
    actions = ["queue_snapshot"]
    inlines = [HoldingInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Snapshot._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Queue a new snapshot of these companies")
    def queue_snapshot(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        for company_id in sorted(set(queryset.values_list("company_id", flat=True))):
            snapshot = queryset.filter(company_id=company_id).first()
            try:
                snapshot_request(company=snapshot.company, by=request.user)
            except TreasuryError as exc:
                self.message_user(request, f"{snapshot.company}: {exc.detail}", messages.WARNING)


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):
    list_display = ["snapshot", "kind", "status", "symbol", "quantity", "price_usd", "price_source", "value_usd"]
    list_filter = ["kind", "status", "price_source"]
    search_fields = ["asset", "address", "symbol"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Holding._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
