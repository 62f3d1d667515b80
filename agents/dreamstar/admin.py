"""Admin for DreamStar rows: inspect ingestions, chunks and generations; delete an ingestion to re-ingest it."""

from __future__ import annotations

from django.contrib import admin

from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration, DreamstarIngestion


@admin.register(DreamstarIngestion)
class DreamstarIngestionAdmin(admin.ModelAdmin):
    list_display = ["name", "source_kind", "media_type", "chunk_count", "size", "created_at"]
    list_filter = ["source_kind", "media_type"]
    search_fields = ["name", "blake3", "url"]
    readonly_fields = ["blake3", "size", "chars", "chunk_count", "artifact", "mission", "created_at"]


@admin.register(DreamstarChunk)
class DreamstarChunkAdmin(admin.ModelAdmin):
    list_display = ["ingestion", "ordinal", "heading", "start", "end", "embedding_model"]
    search_fields = ["heading", "text"]
    list_select_related = ["ingestion"]
    exclude = ["embedding"]
    # Chunks are written by ingestion only: editing one would desynchronise its digest and span.
    readonly_fields = ["ingestion", "ordinal", "heading", "text", "blake3", "start", "end", "embedding_model"]


@admin.register(DreamstarGeneration)
class DreamstarGenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "format", "prompt", "created_at"]
    list_filter = ["format"]
    readonly_fields = [
        "mission",
        "prompt",
        "format",
        "text",
        "sources",
        "citations",
        "dropped",
        "artifact",
        "created_at",
    ]
