from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dreamnet.apikeys import KEY_PREFIX, SCOPES, apikey_issue, apikey_revoke, scopes_clean
from dreamnet.models import ApiKey, Lead, WaitlistEntry


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {text}") for name, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="What this key may do. Give the fewest scopes that work.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]

    def clean_scopes(self) -> list[str]:
        return scopes_clean(self.cleaned_data["scopes"])


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "display_prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["display_prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description="Key")
    def display_prefix(self, obj: ApiKey) -> str:
        return f"{KEY_PREFIX}{obj.prefix}…" if obj.prefix else "(issued on save)"

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
            raw = apikey_issue(obj)
            super().save_model(request, obj, form, change)
            messages.warning(request, f"New API key for {obj.name}: {raw} (copy it now; it is not shown again).")
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        # Through the service, one key at a time: it locks the row so a concurrent revoke keeps the first time.
        prefixes = list(queryset.filter(revoked_at__isnull=True).values_list("prefix", flat=True))
        for prefix in prefixes:
            apikey_revoke(prefix=prefix)
        self.message_user(request, f"Revoked {len(prefixes)} key(s).", messages.SUCCESS)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["created_at", "topic", "name", "email", "company", "handled"]
    list_filter = ["topic", "handled"]
    list_editable = ["handled"]
    search_fields = ["name", "email", "company", "message"]
    readonly_fields = ["topic", "name", "email", "company", "message", "created_at"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at", "confirmed_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]
    readonly_fields = ["email", "token", "created_at", "confirmed_at"]
