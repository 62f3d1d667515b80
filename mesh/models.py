"""StarBridge rows: the Merkle log (entries, tree nodes, sequencer state, checkpoints) and what it seals
(events, receipts, DreamSnail commits, artifacts).

Log rows are append-only: services never update or delete them, the admin is read-only, and on PostgreSQL
a trigger refuses UPDATE and DELETE on the entry, node, event and checkpoint tables.
"""

from __future__ import annotations

from django.db import models


class LogState(models.Model):
    """The sequencer: one row (pk=1) holding the log size and the right-edge subtree hashes ("frontier").

    Appenders take this row with ``select_for_update``, so indexes are assigned one at a time with no gap or
    duplicate, and the frontier lets an append compute its new tree nodes without reading any.
    """

    size = models.BigIntegerField(default=0)
    # The hashes of the complete subtrees that make up the tree of ``size`` leaves, concatenated in the order
    # of merkle.root_node_ids(size) (largest first); their positions follow from ``size``.
    frontier = models.BinaryField(default=b"")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="logstate_single_row"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="logstate_size_not_negative"),
        ]

    def __str__(self) -> str:
        return f"log of {self.size} entries"


class LogEntry(models.Model):
    """One leaf: the exact entry bytes whose RFC 9162 leaf hash is tree node (0, index)."""

    class Kind(models.TextChoices):
        EVENT = "event"
        RECEIPT = "receipt"
        DREAMSNAIL = "dreamsnail"

    index = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    entry = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "log entries"
        ordering = ["index"]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"


class TreeNode(models.Model):
    """A complete, aligned subtree hash: (level, index) covers leaves [index·2^level, (index+1)·2^level)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="treenode_unique_position")]
        # The unique constraint's index serves every proof's batched (level, index) lookup.

    def __str__(self) -> str:
        return f"node ({self.level}, {self.index})"


class Checkpoint(models.Model):
    """A signed C2SP checkpoint note over the first ``size`` entries."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]
        get_latest_by = "size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.size}"


class Event(models.Model):
    """A domain event: persisted, pushed live, and sealed as log entry ``log_index``."""

    log_index = models.BigIntegerField(unique=True)
    topic = models.CharField(max_length=100)
    payload = models.JSONField()
    payload_blake3 = models.CharField(max_length=64)
    actor = models.CharField(max_length=150, blank=True)
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["log_index"]
        indexes = [
            # Serves events?topic=...&after=... and the console's per-topic tail.
            models.Index(fields=["topic", "log_index"], name="event_topic_index"),
        ]

    def __str__(self) -> str:
        return f"#{self.log_index} {self.topic}"


class Receipt(models.Model):
    """A signed statement of an operation's inputs, outputs, timing, status and cost, sealed in the log."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    log_index = models.BigIntegerField(unique=True)
    operation = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    inputs_blake3 = models.CharField(max_length=64)
    outputs_blake3 = models.CharField(max_length=64)
    inputs = models.JSONField()
    outputs = models.JSONField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6)
    signature = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-log_index"]
        constraints = [
            models.CheckConstraint(condition=models.Q(finished_at__gte=models.F("started_at")), name="receipt_ordered"),
            models.CheckConstraint(condition=models.Q(cost_usd__gte=0), name="receipt_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"receipt #{self.log_index} {self.operation} {self.subject}"


class TrailCommit(models.Model):
    """A DreamSnail commitment: somebody's digest, sealed as log entry ``log_index``."""

    log_index = models.BigIntegerField(unique=True)
    algorithm = models.CharField(max_length=16)
    digest = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-log_index"]

    def __str__(self) -> str:
        return f"#{self.log_index} {self.algorithm}:{self.digest[:16]}…"


class Artifact(models.Model):
    """A content-addressed file in DREAMNET_HOME/artifacts, stored once per BLAKE3 digest."""

    blake3 = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=127)
    size = models.BigIntegerField()
    compression = models.CharField(max_length=8, default="none")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(size__gte=0), name="artifact_size_not_negative")]

    def __str__(self) -> str:
        return f"{self.name} ({self.blake3[:12]}…)"
