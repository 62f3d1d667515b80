"""Read-only admin for the sealed tables: operators can look, never edit or delete."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from mesh.models import (
    Artifact,
    Checkpoint,
    Cosignature,
    Event,
    LogEntry,
    Peer,
    PeerHeartbeat,
    PeerStateChange,
    Portal,
    Receipt,
    Signal,
    SyncTransfer,
    TrailCommit,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from mesh.peers.http import check_http_url
from mesh.webhooks.topics import check_patterns


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["log_index", "topic", "actor", "public", "created_at"]
    list_filter = ["public", "topic"]
    search_fields = ["topic", "actor", "payload_blake3"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["log_index", "operation", "subject", "status", "cost_usd", "finished_at"]
    list_filter = ["status", "operation"]
    search_fields = ["subject", "operation"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["size", "created_at"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["index", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(TrailCommit)
class TrailCommitAdmin(ReadOnlyAdmin):
    list_display = ["log_index", "algorithm", "digest", "created_at"]
    search_fields = ["digest"]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["name", "blake3", "media_type", "size", "created_at"]
    search_fields = ["name", "blake3"]


# Peers and webhooks: state changes go through mesh.peers / mesh.webhooks services (which publish events and keep
# the evidence), so these screens are for looking; a subscription's name, URL and topics may be edited here.


class PeerStateChangeInline(admin.TabularInline):
    model = PeerStateChange
    fields = ["created_at", "from_state", "to_state", "score", "reason", "by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Peer)
class PeerAdmin(ReadOnlyAdmin):
    list_display = ["origin", "label", "url", "state", "score", "size", "last_seen_at", "last_result", "pinned_via"]
    list_filter = ["state", "pinned_via"]
    search_fields = ["origin", "label", "url"]
    exclude = ["root_hash"]
    inlines = [PeerStateChangeInline]


@admin.register(PeerStateChange)
class PeerStateChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "peer", "from_state", "to_state", "score", "by"]
    list_filter = ["to_state"]
    search_fields = ["peer__origin", "reason", "note"]


@admin.register(PeerHeartbeat)
class PeerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "peer", "direction", "result", "size", "latency_ms"]
    list_filter = ["direction", "result"]
    search_fields = ["peer__origin", "detail"]


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyAdmin):
    list_display = ["size", "peer", "timestamp", "created_at"]
    exclude = ["root_hash"]


class WebhookSubscriptionAdminForm(forms.ModelForm):
    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "topics"]

    def clean_url(self) -> str:
        try:
            return check_http_url(self.cleaned_data["url"])
        except ValueError as exc:
            raise forms.ValidationError(f"The webhook URL is not usable: {exc}.") from exc

    def clean_topics(self) -> list[str]:
        try:
            return check_patterns(self.cleaned_data["topics"] or [])
        except (ValueError, TypeError) as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionAdminForm
    list_display = ["name", "url", "state", "consecutive_failures", "last_success_at"]
    list_filter = ["state"]
    search_fields = ["name", "url"]
    readonly_fields = ["state", "paused_reason", "consecutive_failures", "failing_since", "last_success_at",
                       "created_by", "created_at"]  # fmt: skip
    actions = None  # bulk deletion would skip the webhook.deleted event

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created in the console or the API, which generate the secret and show it once

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form, change: bool) -> None:
        from mesh.webhooks.services import webhook_update

        webhook_update(subscription=obj, name=obj.name, url=obj.url, topics=obj.topics, by=request.user)

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        from mesh.webhooks.services import webhook_delete

        webhook_delete(subscription=obj, by=request.user)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscription", "event", "status", "attempts", "next_attempt_at", "last_status_code"]
    list_filter = ["status"]
    search_fields = ["subscription__name", "event__topic"]
    inlines = [WebhookAttemptInline]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "number", "started_at", "status_code", "duration_ms", "error"]


@admin.register(Portal)
class PortalAdmin(admin.ModelAdmin):
    """Portals can be renamed or closed here; the secret (the key's proof) is never shown."""

    list_display = ["name", "portal_id", "role", "state", "peer", "connected", "last_sync_at", "bytes_in", "bytes_out",
                    "conflicts"]  # fmt: skip
    list_filter = ["role", "state", "connected"]
    search_fields = ["name", "portal_id", "path"]
    exclude = ["secret"]
    readonly_fields = ["portal_id", "role", "path", "peer", "opener_key", "connected", "last_sync_at", "last_error",
                       "bytes_in", "bytes_out", "files_in", "files_out", "conflicts", "rounds", "progress_done",
                       "progress_total", "created_by", "created_at", "closed_at"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened with 'dream portal open', the console or the API, which make the key


@admin.register(SyncTransfer)
class SyncTransferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "direction", "portal", "manifest_digest", "files", "chunks", "bytes"]
    list_filter = ["kind", "direction"]
    search_fields = ["manifest_digest", "peer_key"]


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = ["name", "signal_id", "role", "state", "source", "last_seq", "last_sync_at", "bytes_in", "bytes_out"]
    list_filter = ["role", "state"]
    search_fields = ["name", "signal_id", "path"]
