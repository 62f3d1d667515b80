"""Sync rows: portals (two-way synced folders), signals (one-way signed series) and the transfer log.

Imported by ``mesh.models`` so that they belong to the mesh app. File state itself (version vectors, chunk
lists) lives in each portal's index file under DREAMNET_HOME/sync/, not in the database: the sync loop updates
it a file at a time without a transaction per file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Portal(models.Model):
    """A folder kept equal on two nodes. The opener holds the secret it gave out in the key; the joiner dials."""

    class Role(models.TextChoices):
        OPENER = "opener", "opened here"
        JOINER = "joiner", "joined from a key"

    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    portal_id = models.CharField(max_length=32, unique=True)  # hex, public part of the key
    secret = models.CharField(max_length=64)  # hex; proves the key over the channel's handshake hash (HMAC)
    name = models.CharField(max_length=100)
    path = models.CharField(max_length=1000)
    role = models.CharField(max_length=8, choices=Role.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    peer = models.ForeignKey("mesh.Peer", null=True, blank=True, on_delete=models.SET_NULL, related_name="portals")
    opener_key = models.CharField(max_length=64, blank=True)  # hex Ed25519 key of the opening node (joiner side)
    connected = models.BooleanField(default=False)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    files_in = models.BigIntegerField(default=0)
    files_out = models.BigIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    rounds = models.PositiveIntegerField(default=0)
    progress_done = models.BigIntegerField(default=0)  # bytes of the transfer in flight (0/0 when idle)
    progress_total = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=["opener", "joiner"]), name="portal_role_known"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "closed"]), name="portal_state_known"),
        ]

    def __str__(self) -> str:
        return f"portal {self.name} ({self.role}, {self.state})"


class SyncTransfer(models.Model):
    """One transfer as seen by this node: a portal round, a signal update or a file send, with its receipt."""

    class Kind(models.TextChoices):
        PORTAL = "portal"
        SIGNAL = "signal"
        SEND = "send"

    class Direction(models.TextChoices):
        IN = "in", "received"
        OUT = "out", "sent"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    portal = models.ForeignKey(Portal, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers")
    signal = models.ForeignKey("mesh.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    peer_key = models.CharField(max_length=64)  # hex Ed25519 key of the other node
    manifest_digest = models.CharField(max_length=64)
    files = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    receipt = models.ForeignKey("mesh.Receipt", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the console's "last transfers of this portal".
            models.Index(fields=["portal", "-created_at"], name="synctransfer_portal_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.direction} {self.manifest_digest[:12]} ({self.bytes} bytes)"


class Signal(models.Model):
    """A folder published one way as a series of signed manifests; subscribers keep (and can relay) a copy."""

    class Role(models.TextChoices):
        PUBLISHER = "publisher", "published here"
        SUBSCRIBER = "subscriber", "subscribed here"

    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    signal_id = models.CharField(max_length=32, unique=True)  # hex, named in the key
    name = models.CharField(max_length=100)
    path = models.CharField(max_length=1000)
    role = models.CharField(max_length=12, choices=Role.choices)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    publisher_key = models.CharField(max_length=64)  # hex Ed25519 key every manifest must be signed with
    source = models.ForeignKey("mesh.Peer", null=True, blank=True, on_delete=models.SET_NULL, related_name="signals")
    last_seq = models.PositiveIntegerField(default=0)
    last_digest = models.CharField(max_length=64, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=["publisher", "subscriber"]), name="signal_role_known"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "closed"]), name="signal_state_known"),
        ]

    def __str__(self) -> str:
        return f"signal {self.name} ({self.role}, #{self.last_seq})"
