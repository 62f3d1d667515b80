"""Read-only admin for the sealed tables: operators can look, never edit or delete."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from mesh.models import Artifact, Checkpoint, Event, LogEntry, Receipt, TrailCommit


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
