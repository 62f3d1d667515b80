"""The request folder's record: one row per file taken from the folder, whatever became of it."""

from __future__ import annotations

from django.db import models

__all__ = ["RequestFile"]


class RequestFile(models.Model):
    """A file the watcher took from the request folder: its content digest, what became of it, and where it went.

    At most one ``processed`` row exists per content digest (a partial unique constraint), so the same content
    dropped twice makes one mission; the second file is recorded as ``duplicate`` of the first's mission. Failed
    rows do not hold the digest: a fixed cause (an agent activated, budget raised) lets the same file run later.
    """

    class Status(models.TextChoices):
        PROCESSED = "processed"
        DUPLICATE = "duplicate"
        FAILED = "failed"

    name = models.CharField(max_length=255, help_text="The file's name in the request folder.")
    claim = models.CharField(max_length=300, unique=True, help_text="Its name while it sat in processing/.")
    blake3 = models.CharField(max_length=64, help_text="BLAKE3 of the file's bytes.")
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=10, blank=True, help_text="json, yaml or markdown.")
    status = models.CharField(max_length=10, choices=Status.choices)
    code = models.CharField(max_length=40, blank=True, help_text="The stable error code of a failed file.")
    error = models.TextField(blank=True)
    ignored_fields = models.JSONField(default=list, blank=True, help_text="Fields the mission's kind did not use.")
    mission = models.ForeignKey(
        "agents.Mission", on_delete=models.PROTECT, null=True, blank=True, related_name="request_files"
    )
    moved_to = models.CharField(max_length=500, blank=True, help_text="Where the file lies now (empty: not moved yet).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the console's list of recent request files, newest first.
            models.Index(fields=["-created_at"], name="requestfile_created"),
        ]
        constraints = [
            # The same content makes one mission. Also serves the duplicate lookup (blake3 = ? AND processed).
            models.UniqueConstraint(
                fields=["blake3"], condition=models.Q(status="processed"), name="requestfile_one_mission_per_content"
            ),
            models.CheckConstraint(
                condition=models.Q(status="failed", mission__isnull=True)
                | models.Q(status__in=["processed", "duplicate"], mission__isnull=False),
                name="requestfile_mission_unless_failed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""), name="requestfile_failed_has_error"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
