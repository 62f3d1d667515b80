"""Mesh writes: publish events, issue receipts, commit DreamSnail digests, store artifacts.

Every sealed write appends its log entry inside the caller's transaction (see mesh.log) and fans out only
after commit, so nobody sees an event for a write that rolled back.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import blake3
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import mesh.dreamfile as dreamfile
from dreamnet.errors import DomainError
from mesh.entries import blake3_hex, canonical_json, dreamsnail_entry, event_entry, receipt_entry
from mesh.identity import node_identity
from mesh.log import log_append, log_append_many
from mesh.models import Artifact, Event, LogEntry, Receipt, TrailCommit
from mesh.webhooks.hook import fanout_queue as webhook_fanout_queue
from mesh.webhooks.hook import topic_wanted as webhook_topic_wanted

TOPIC_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
CONSOLE_GROUP = "console"
STATUS_GROUP = "status"

# DreamSnail accepts these digests; the value is the hex length and the server-side hasher for uploads.
DIGEST_ALGORITHMS: dict[str, tuple[int, Any]] = {
    "sha256": (64, hashlib.sha256),
    "sha512": (128, hashlib.sha512),
    "sha3-256": (64, hashlib.sha3_256),
    "blake3": (64, blake3.blake3),
}


class MeshError(DomainError):
    """Input the mesh refuses; ``code`` is stable for API clients, the message says what to fix."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _normalise(payload: Any, *, what: str, limit: int) -> tuple[Any, bytes]:
    """Return the payload as plain JSON values and its canonical bytes, or raise MeshError."""
    try:
        plain = json.loads(json.dumps(payload, default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise MeshError(f"{what} is not JSON-serialisable: {exc}.", code="payload_not_json") from exc
    data = canonical_json(plain)
    if len(data) > limit:
        raise MeshError(f"{what} is {len(data)} bytes of JSON; the limit is {limit}.", code="payload_too_large")
    return plain, data


def _actor_label(actor: Any) -> str:
    if actor is None:
        return ""
    if hasattr(actor, "pk") and hasattr(actor, "get_username"):
        return f"user:{actor.pk}"
    label = str(actor)
    if len(label) > 150:
        raise MeshError("actor labels are at most 150 characters.", code="actor_too_long")
    return label


def event_message(event: Event) -> dict[str, Any]:
    """Return the JSON pushed to websocket clients for ``event`` (it carries the log index as ``seq``)."""
    return {
        "seq": event.log_index,
        "topic": event.topic,
        "payload": event.payload,
        "payload_blake3": event.payload_blake3,
        "actor": event.actor,
        "created_at": event.created_at.isoformat(),
        "public": event.public,
    }


def status_message(message: dict[str, Any]) -> dict[str, Any]:
    """Return the status-group message for a public event, its websocket text encoded once for every client."""
    return {"type": "status.event", "event": message, "text": json.dumps({"type": "event", "event": message})}


def fan_out(message: dict[str, Any]) -> None:
    """Send an event message to the console group, and the status group when public: one group send each."""
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    send(CONSOLE_GROUP, {"type": "mesh.event", "event": message})
    if message["public"]:
        send(STATUS_GROUP, status_message(message))


def _prepared_event(topic: str, payload: dict[str, Any], actor_label: str) -> tuple[Event, bytes]:
    """Validate one event and return its unsaved row (no log index yet) and its log entry bytes."""
    if not isinstance(topic, str) or len(topic) > 100 or not TOPIC_RE.fullmatch(topic):
        raise MeshError(
            f"Topic {topic!r} is not a dotted lower-case name of at most 100 characters (e.g. 'order.paid').",
            code="bad_topic",
        )
    if not isinstance(payload, dict):
        raise MeshError("An event payload is a JSON object (a dict).", code="payload_not_object")
    plain, data = _normalise(payload, what="The event payload", limit=settings.MESH_MAX_PAYLOAD_BYTES)
    created_at = timezone.now()
    digest = blake3_hex(data)  # computed once: the row keeps it and the entry seals it
    entry = event_entry(topic=topic, payload_blake3=digest, actor=actor_label, created_at=created_at.isoformat())
    event = Event(
        topic=topic,
        payload=plain,
        payload_blake3=digest,
        actor=actor_label,
        public=topic.startswith(settings.MESH_PUBLIC_TOPIC_PREFIXES),
        created_at=created_at,
    )
    return event, entry


def _event_insert(event: Event) -> None:
    """Insert one prepared Event row and set its pk: plain SQL, as the log's own statements (mesh.log), since the
    ORM's statement building costs more than the insert on the publish path."""
    q = connection.ops.quote_name
    columns = ("log_index", "topic", "payload", "payload_blake3", "actor", "public", "created_at")
    fields = [Event._meta.get_field(name) for name in columns]
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    # Names from the model's metadata, values as parameters.
    names, marks = ", ".join(q(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    cursor_sql = f"INSERT INTO {q(Event._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(cursor_sql + f" RETURNING {q('id')}", values)
            event.pk = cursor.fetchone()[0]
        else:  # pragma: no cover - every supported backend (SQLite >= 3.35, PostgreSQL) returns it
            cursor.execute(cursor_sql, values)
            event.pk = connection.ops.last_insert_id(cursor, Event._meta.db_table, "id")
    event._state.adding = False
    event._state.db = connection.alias


def _after_commit(events: list[Event], webhooks_wanted: list[bool]) -> None:
    if settings.REDIS_URL:
        messages = [event_message(event) for event in events]
        transaction.on_commit(lambda: [fan_out(message) for message in messages])
    for event, wanted in zip(events, webhooks_wanted, strict=True):
        if wanted:
            # robust: a broker hiccup after commit is logged, never raised into the publisher's request.
            transaction.on_commit(functools.partial(webhook_fanout_queue, event.pk), robust=True)


def publish(topic: str, payload: dict[str, Any], *, actor: Any = None) -> Event:
    """Persist an event, seal it into the log, and push it live after the transaction commits.

    Joins the caller's transaction; holds the log's sequencer lock until it commits. With Redis the event is
    sent to the channel groups from here; without Redis the web process relays new Event rows (mesh.relay).
    A database error inside marks the caller's transaction for rollback (no savepoint: a half-written append
    must never commit).
    """
    event, entry = _prepared_event(topic, payload, _actor_label(actor))
    webhooks_wanted = webhook_topic_wanted(topic)  # read before the sequencer lock is taken
    with transaction.atomic(savepoint=False):
        event.log_index = log_append(kind=LogEntry.Kind.EVENT, entry=entry)
        _event_insert(event)
        _after_commit([event], [webhooks_wanted])
    return event


def publish_many(events: Iterable[tuple[str, dict[str, Any]]], *, actor: Any = None) -> list[Event]:
    """Publish several ``(topic, payload)`` events in one transaction: one log append and one insert for all.

    For callers that emit several events in one write; the events take consecutive log indexes in the order
    given, and each is the same sealed, fanned-out event ``publish`` would make. All or none: one invalid event
    raises MeshError before anything is written.
    """
    actor_label = _actor_label(actor)
    prepared = [_prepared_event(topic, payload, actor_label) for topic, payload in events]
    if not prepared:
        return []
    webhooks_wanted = [webhook_topic_wanted(event.topic) for event, _entry in prepared]  # before the lock
    with transaction.atomic(savepoint=False):
        indexes = log_append_many([(LogEntry.Kind.EVENT, entry) for _event, entry in prepared])
        rows = [event for event, _entry in prepared]
        for event, index in zip(rows, indexes, strict=True):
            event.log_index = index
        Event.objects.bulk_create(rows)
        if any(event.pk is None for event in rows):  # a backend that returns no ids from bulk inserts
            by_index = dict(Event.objects.filter(log_index__in=indexes).values_list("log_index", "pk"))
            for event in rows:
                event.pk = by_index[event.log_index]
        _after_commit(rows, webhooks_wanted)
    return rows


def publish_on_commit(topic: str, payload: dict[str, Any], *, actor: Any = None) -> None:
    """Publish ``topic`` once the caller's transaction commits (at once outside one); never for a rolled-back write.

    The rule (docs/architecture.md, "Events"): a write whose log entry is part of the write itself (an order's
    state change, a receipt, a DreamSnail commit) calls ``publish`` inside its transaction, so the row and its
    sealed event commit or roll back together; a write that only announces itself (a mission queued, a document
    ingested) calls this, so nobody sees an event for a write that rolled back and the write does not wait on
    the log's sequencer lock.
    """
    transaction.on_commit(lambda: publish(topic, payload, actor=actor))


def receipt_body(receipt: Receipt) -> dict[str, Any]:
    """Return the signed part of a receipt, as signed and as recomputed by the audit."""
    return {
        "operation": receipt.operation,
        "subject": receipt.subject,
        "inputs_blake3": receipt.inputs_blake3,
        "outputs_blake3": receipt.outputs_blake3,
        "started_at": receipt.started_at.isoformat(),
        "finished_at": receipt.finished_at.isoformat(),
        "status": receipt.status,
        "cost_usd": str(receipt.cost_usd),
    }


def receipt_issue(
    *,
    operation: str,
    subject: str,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    started: datetime,
    finished: datetime,
    status: str,
    cost: Decimal,
) -> Receipt:
    """Store a receipt signed by the node key and seal it into the log (inside the caller's transaction)."""
    if status not in Receipt.Status.values:
        raise MeshError(f"Receipt status {status!r} is not one of {', '.join(Receipt.Status.values)}.")
    if finished < started:
        raise MeshError("A receipt cannot finish before it starts.")
    if not isinstance(cost, Decimal) or cost < 0:
        raise MeshError("Receipt cost is a non-negative Decimal (US dollars).")
    if not operation or len(operation) > 100 or not subject or len(subject) > 200:
        raise MeshError("Receipt operation (≤100 chars) and subject (≤200 chars) are required.")
    limit = settings.MESH_MAX_PAYLOAD_BYTES
    inputs_plain, inputs_data = _normalise(inputs, what="Receipt inputs", limit=limit)
    outputs_plain, outputs_data = _normalise(outputs, what="Receipt outputs", limit=limit)
    receipt = Receipt(
        operation=operation,
        subject=subject,
        inputs=inputs_plain,
        outputs=outputs_plain,
        inputs_blake3=blake3_hex(inputs_data),
        outputs_blake3=blake3_hex(outputs_data),
        started_at=started,
        finished_at=finished,
        status=status,
        cost_usd=cost.quantize(Decimal("0.000001")),
    )
    body = receipt_body(receipt)
    receipt.signature = receipt_sign(body)
    with transaction.atomic():
        receipt.log_index = log_append(
            kind=LogEntry.Kind.RECEIPT, entry=receipt_entry(body=body, signature=receipt.signature)
        )
        receipt.save()
    return receipt


def receipt_sign(body: dict[str, Any]) -> str:
    signed = node_identity().signing_key.sign(canonical_json(body))
    return base64.b64encode(signed.signature).decode()


def dreamsnail_commit(*, algorithm: str, digest: str) -> TrailCommit:
    """Seal somebody's digest into the log and return the commitment with its index."""
    algorithm = algorithm.strip().lower()
    if algorithm not in DIGEST_ALGORITHMS:
        raise MeshError(
            f"Algorithm {algorithm!r} is not supported; use one of: {', '.join(DIGEST_ALGORITHMS)}.",
            code="bad_algorithm",
        )
    length, _hasher = DIGEST_ALGORITHMS[algorithm]
    digest = digest.strip().lower()
    if len(digest) != length or not re.fullmatch(r"[0-9a-f]+", digest):
        raise MeshError(
            f"A {algorithm} digest is {length} hex digits; got {len(digest)} character(s)"
            + ("" if re.fullmatch(r"[0-9a-f]*", digest) else " including non-hex ones")
            + ".",
            code="bad_digest",
        )
    with transaction.atomic():
        index = log_append(kind=LogEntry.Kind.DREAMSNAIL, entry=dreamsnail_entry(algorithm=algorithm, digest=digest))
        commit = TrailCommit.objects.create(log_index=index, algorithm=algorithm, digest=digest)
        publish("dreamsnail.committed", {"index": index, "algorithm": algorithm, "digest": digest})
    return commit


def dreamsnail_hash_upload(*, algorithm: str, chunks) -> str:
    """Hash uploaded chunks with ``algorithm`` (nothing is kept) and return the hex digest."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise MeshError(
            f"Algorithm {algorithm!r} is not supported; use one of: {', '.join(DIGEST_ALGORITHMS)}.",
            code="bad_algorithm",
        )
    hasher = DIGEST_ALGORITHMS[algorithm][1]()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


# Artifacts ---------------------------------------------------------------------------------------------


def artifact_path(digest: str) -> Path:
    return Path(settings.DREAMNET_HOME) / "artifacts" / digest[:2] / digest[2:4] / f"{digest}.dreamfile"


def artifact_store(*, content: bytes, name: str, media_type: str, compression: str = "none") -> Artifact:
    """Store ``content`` once under its BLAKE3 digest (deduplicated) and return its row.

    The file is written to a temporary name and renamed into place, so a reader never sees half a file.
    """
    if len(content) > settings.ARTIFACT_MAX_BYTES:
        raise MeshError(
            f"The artifact is {len(content)} bytes; the limit is {settings.ARTIFACT_MAX_BYTES}.",
            code="too_large",
            status=413,
        )
    name = Path(name or "artifact").name[:255] or "artifact"
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", media_type or ""):
        raise MeshError(f"Media type {media_type!r} is not of the form type/subtype.", code="bad_media_type")
    digest = blake3_hex(content)
    existing = Artifact.objects.filter(blake3=digest).first()
    path = artifact_path(digest)
    if existing is not None and path.exists():
        return existing
    try:
        packed = dreamfile.pack(content, name=name, media_type=media_type, compression=compression)
    except dreamfile.DreamfileError as exc:
        raise MeshError(str(exc)) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(packed)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if existing is not None:  # the row was there, its file was not: the file is back
        return existing
    try:
        with transaction.atomic():  # a savepoint: a concurrent store of the same content must not doom the caller's
            return Artifact.objects.create(
                blake3=digest, name=name, media_type=media_type, size=len(content), compression=compression
            )
    except IntegrityError:  # stored by another process since the read above
        return Artifact.objects.get(blake3=digest)


def artifact_read(artifact: Artifact) -> bytes:
    """Return the artifact's content after verifying its file (DreamfileError if damaged)."""
    _header, content = dreamfile.unpack(artifact_path(artifact.blake3).read_bytes())
    if blake3_hex(content) != artifact.blake3:
        raise dreamfile.DreamfileError("the stored file holds different content than its digest names")
    return content
