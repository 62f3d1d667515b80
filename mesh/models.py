"""StarBridge rows: the Merkle log (entries, tree nodes, sequencer state, checkpoints) and what it seals
(events, receipts, DreamSnail commits, artifacts).

Log rows are append-only: services never update or delete them, the admin is read-only, and on PostgreSQL
a trigger refuses UPDATE and DELETE on the entry, node, event and checkpoint tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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


# Peers ------------------------------------------------------------------------------------------------------


class Peer(models.Model):
    """Another DreamNet node this node watches, pinned to its verifier key, and a witness of this node's log.

    ``size``, ``root_hash`` and ``checkpoint_note`` hold the latest checkpoint of the peer's log that this node
    verified (by heartbeat or push); every later checkpoint must be consistent with it. The key is pinned at
    registration and never changed afterwards: a peer with a new key is removed and registered again.
    """

    class State(models.TextChoices):
        TRUSTED = "trusted"
        SUSPECT = "suspect"
        QUARANTINED = "quarantined"

    class PinnedVia(models.TextChoices):
        OPERATOR = "operator", "key given by the operator"
        TOFU = "tofu", "trust on first use, confirmed by the operator"

    url = models.CharField(max_length=500, unique=True)
    origin = models.CharField(max_length=255, unique=True)  # the key name and checkpoint origin line
    label = models.CharField(max_length=100, blank=True)  # the operator's own name for the peer ("friend")
    verifier_key = models.CharField(max_length=400)
    pinned_via = models.CharField(max_length=16, choices=PinnedVia.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.TRUSTED)
    score = models.FloatField()
    score_at = models.DateTimeField()  # when ``score`` was last computed; it decays from there
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32, default=b"")
    checkpoint_note = models.TextField(blank=True)
    witness_size = models.BigIntegerField(default=0)  # the size of our log this peer last cosigned
    last_seen_at = models.DateTimeField(null=True, blank=True)  # last verified heartbeat
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    unreachable_periods_charged = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["origin"]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=["trusted", "suspect", "quarantined"]),
                                   name="peer_state_known"),
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=100), name="peer_score_in_range"),
            models.CheckConstraint(condition=models.Q(size__gte=0, witness_size__gte=0), name="peer_sizes_not_negative"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.origin} ({self.state})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("mesh-peer", args=[self.pk])


class PeerHeartbeat(models.Model):
    """The result of one heartbeat: a checkpoint fetched from the peer, pushed by it, or ours pushed to it."""

    class Direction(models.TextChoices):
        PULL = "pull", "fetched from the peer"
        PUSH = "push", "pushed to us by the peer"
        COSIGN = "cosign", "ours pushed to the peer for a cosignature"

    class Result(models.TextChoices):
        OK = "ok"
        EMPTY = "empty", "no checkpoint yet"
        STALE = "stale", "an older checkpoint, consistent"
        UNREACHABLE = "unreachable"
        BAD_RESPONSE = "bad_response", "malformed answer"
        BAD_SIGNATURE = "bad_signature"
        FORK = "fork"
        CONFLICT = "conflict", "old size did not match"
        BAD_PROOF = "bad_proof"
        REFUSED = "refused"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="heartbeats")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    result = models.CharField(max_length=16, choices=Result.choices)
    size = models.BigIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)  # the signed material behind a bad result
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the peer page's recent heartbeats.
            models.Index(fields=["peer", "-created_at"], name="peerheartbeat_peer_recent"),
            # Serves the retention sweep (delete rows older than the cut-off).
            models.Index(fields=["created_at"], name="peerheartbeat_created"),
        ]

    def __str__(self) -> str:
        return f"{self.peer_id} {self.direction} {self.result}"


class PeerStateChange(models.Model):
    """Why a peer's state changed (or an operator acted on it), with the evidence that justified it."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="changes")
    from_state = models.CharField(max_length=16, choices=Peer.State.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=Peer.State.choices)
    score = models.FloatField()
    reason = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Serves the peer page's history and the console's latest reasons.
            models.Index(fields=["peer", "-created_at"], name="peerstatechange_peer_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.peer_id}: {self.from_state or 'new'} → {self.to_state}"


class Cosignature(models.Model):
    """A peer's cosignature/v1 line over one of this node's checkpoints, as returned by its witness endpoint."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="cosignatures")
    size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    line = models.TextField()
    timestamp = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]
        constraints = [models.UniqueConstraint(fields=["peer", "size"], name="cosignature_one_per_peer_and_size")]
        indexes = [
            # Serves /api/mesh/checkpoint/cosigned: every cosignature over the latest checkpoint.
            models.Index(fields=["size"], name="cosignature_size"),
        ]

    def __str__(self) -> str:
        return f"cosignature by {self.peer_id} at size {self.size}"


# Webhooks ---------------------------------------------------------------------------------------------------


class WebhookSubscription(models.Model):
    """An operator-registered consumer: events whose topic matches ``topics`` are POSTed to ``url``, signed."""

    class State(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"

    name = models.CharField(max_length=100)
    url = models.CharField(max_length=500)
    topics = models.JSONField(default=list)  # patterns; '*' matches any run of characters, dots included
    secret = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    paused_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=["active", "paused"]), name="webhook_state_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("mesh-webhook", args=[self.pk])


class WebhookDelivery(models.Model):
    """One event owed to one subscription: attempted until it succeeds or its retry window closes."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed", "failed (gave up)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="webhook_deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)  # an attempt in flight holds the delivery until then
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhookdelivery_once_per_event"),
            models.CheckConstraint(condition=models.Q(status__in=["pending", "succeeded", "failed"]),
                                   name="webhookdelivery_status_known"),
        ]  # fmt: skip
        indexes = [
            # Serves the retry sweep: pending deliveries whose next attempt is due.
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
        ]

    def __str__(self) -> str:
        return f"event #{self.event_id} → subscription {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.FloatField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhookattempt_unique_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


from mesh.sync.models import Portal, Signal, SyncTransfer  # noqa: E402, F401  (sync rows belong to the mesh app)
