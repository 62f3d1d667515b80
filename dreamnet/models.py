"""Platform and site models: API keys for machine clients, contact-form leads, waitlist sign-ups."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A named, scoped, revocable key for a machine client (header ``X-DREAMNET-KEY``).

    Only the SHA-256 of the key is stored; the key itself is shown once, when it is created. The prefix
    is the public part of the key and identifies it in lists, logs and the ``apikey revoke`` command.
    """

    name = models.CharField(max_length=100)
    # Unique: every authenticated request looks its key up by prefix.
    prefix = models.CharField(max_length=24, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="apikey_name_not_empty"),
            models.CheckConstraint(condition=~models.Q(key_hash=""), name="apikey_hash_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Lead(models.Model):
    """A message from the contact form, stored before the operators are notified."""

    class Topic(models.TextChoices):
        MISSION = "mission", "Mission briefing"
        TREASURY = "treasury", "Treasury review"
        GENERAL = "general", "General"

    topic = models.CharField(max_length=10, choices=Topic.choices, default=Topic.GENERAL)
    name = models.CharField(max_length=100)
    email = models.EmailField()
    company = models.CharField(max_length=120, blank=True)
    message = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} from {self.name} <{self.email}>"


class WaitlistEntry(models.Model):
    """A Trailblazer waitlist sign-up; counted once the address is confirmed by the e-mailed link."""

    email = models.EmailField(unique=True)
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email + ("" if self.confirmed_at else " (unconfirmed)")


class HealthSample(models.Model):
    """One round of the health probes, kept for the coherence view (dreamnet/coherence.py).

    ``results`` maps each probe's name to ``[ok, latency_ms]``. Rows older than DREAMNET_HEALTH_HISTORY_H hours
    are deleted as new ones are written.
    """

    checked_at = models.DateTimeField()
    status = models.CharField(max_length=16)
    results = models.JSONField(default=dict)

    class Meta:
        # The coherence window (newest rounds since a time) and the retention delete both range over checked_at.
        indexes = [models.Index(fields=["checked_at"], name="healthsample_checked_at")]
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.status} at {self.checked_at:%Y-%m-%d %H:%M:%S}"
