"""Compute jobs and the home page's showcase frames.

Both tables were created by the ``dreamnet`` app and keep their names (``Meta.db_table``): the move to this app was
state-only, so existing databases keep their rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ComputeJob(models.Model):
    """A compute run (TSP, simulation, risk, render) executed by a Django-Q2 worker, never in a web request."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=20)
    params = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # [{"name": ..., "blake3": ..., "media_type": ...}]: outputs stored in the mesh artifact store.
    artifacts = models.JSONField(default=list, blank=True)
    receipt_index = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While a worker runs the job: another worker may take it over only after this lapses (the first one died).
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "dreamnet_computejob"  # created by the dreamnet app before compute jobs had one of their own
        ordering = ["-created_at"]
        indexes = [
            # Serves the console's and the API's job lists, newest first, filtered by kind.
            models.Index(fields=["kind", "-created_at"], name="computejob_kind_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__gte=0, progress__lte=1), name="computejob_progress_0_1")
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class ShowcaseFrame(models.Model):
    """A fresh picture of one of the site's live simulations, with the figures its caption states."""

    kind = models.CharField(max_length=20)
    blake3 = models.CharField(max_length=64)
    media_type = models.CharField(max_length=40)
    figures = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dreamnet_showcaseframe"  # created by the dreamnet app before compute jobs had one of their own
        ordering = ["-created_at"]
        indexes = [
            # Serves the home page: the newest frame of each kind.
            models.Index(fields=["kind", "-created_at"], name="showcase_kind_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} frame {self.created_at:%H:%M:%S}"
