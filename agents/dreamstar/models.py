"""DreamStar's rows: ingested documents, their indexed chunks, and cited generations."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

__all__ = ["DreamstarChunk", "DreamstarGeneration", "DreamstarIngestion"]


class DreamstarIngestion(models.Model):
    """One ingested document, stored once per BLAKE3 digest of its bytes (re-ingesting the same bytes is a no-op)."""

    class SourceKind(models.TextChoices):
        UPLOAD = "upload"
        TEXT = "text"
        URL = "url"

    source_kind = models.CharField(max_length=8, choices=SourceKind.choices)
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=2000, blank=True)
    media_type = models.CharField(max_length=64)
    blake3 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    chars = models.PositiveIntegerField(help_text="Characters of extracted text.")
    chunk_count = models.PositiveIntegerField()
    artifact = models.ForeignKey("mesh.Artifact", on_delete=models.PROTECT, related_name="+")
    mission = models.ForeignKey(
        "agents.Mission", null=True, blank=True, on_delete=models.SET_NULL, related_name="dreamstar_ingestions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dreamstar_ingestion"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gte=0), name="dreamstar_ingestion_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.blake3[:12]}…)"

    def get_absolute_url(self) -> str:
        return reverse("agents:dreamstar-ingestion", args=[self.pk])


class DreamstarChunk(models.Model):
    """A piece of an ingestion's text, indexed for full-text search (FTS5 on SQLite, a GIN index on PostgreSQL;
    see migration 0004). ``start``/``end`` are character offsets into the extracted text."""

    ingestion = models.ForeignKey(DreamstarIngestion, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    blake3 = models.CharField(max_length=64)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    embedding = models.JSONField(null=True, blank=True, help_text="Vector for hybrid ranking, when configured.")
    embedding_model = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "dreamstar_chunk"
        ordering = ["ingestion", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["ingestion", "ordinal"], name="dreamstar_chunk_unique_ordinal"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="dreamstar_chunk_span"),
        ]

    def __str__(self) -> str:
        return f"chunk {self.ordinal} of {self.ingestion_id}"

    def get_absolute_url(self) -> str:
        return reverse("agents:dreamstar-ingestion", args=[self.ingestion_id]) + f"#chunk-{self.pk}"


class DreamstarGeneration(models.Model):
    """A generate mission's text and the ingested chunks it cites.

    ``sources`` are the retrieved chunk ids in prompt order (``[n]`` is ``sources[n-1]``); ``citations`` the
    chunk ids the text cites, in first-use order; ``dropped`` the citation numbers the model wrote that matched
    no source and were removed.
    """

    class Format(models.TextChoices):
        SUMMARY = "summary"
        ARTICLE = "article"
        PRODUCT_COPY = "product_copy", "product copy"

    mission = models.OneToOneField("agents.Mission", on_delete=models.CASCADE, related_name="dreamstar_generation")
    prompt = models.TextField()
    format = models.CharField(max_length=16, choices=Format.choices)
    text = models.TextField()
    sources = models.JSONField(default=list)
    citations = models.JSONField(default=list)
    dropped = models.JSONField(default=list)
    artifact = models.ForeignKey("mesh.Artifact", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dreamstar_generation"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"generation {self.pk} ({self.format})"

    def get_absolute_url(self) -> str:
        return reverse("agents:dreamstar-generation", args=[self.pk])
