"""Mesh reads: proofs, proof bundles, entries and event pages."""

from __future__ import annotations

from dataclasses import dataclass

import mesh.merkle as merkle
from mesh.log import DatabaseNodes, latest_checkpoint, log_size
from mesh.models import Checkpoint, Event, LogEntry
from mesh.proofbundle import format_bundle
from mesh.services import MeshError


@dataclass(frozen=True)
class InclusionBundle:
    index: int
    checkpoint: Checkpoint
    proof: list[bytes]
    entry: bytes
    text: str


def inclusion_proof_for(*, index: int, size: int) -> list[bytes]:
    current = log_size()
    if not 0 < size <= current:
        raise MeshError(f"size must be between 1 and the log size {current}; got {size}.", code="bad_size")
    if not 0 <= index < size:
        raise MeshError(f"index must be below size {size}; got {index}.", code="bad_index")
    return merkle.inclusion_proof(index, size, DatabaseNodes())


def consistency_proof_for(*, old: int, new: int) -> list[bytes]:
    current = log_size()
    if not 0 < new <= current:
        raise MeshError(f"new must be between 1 and the log size {current}; got {new}.", code="bad_size")
    if not 0 < old <= new:
        raise MeshError(f"old must be between 1 and new ({new}); got {old}.", code="bad_size")
    return merkle.consistency_proof(old, new, DatabaseNodes())


def inclusion_bundle(index: int) -> InclusionBundle | None:
    """Return the tlog-proof bundle for entry ``index`` against the latest checkpoint, or None if no
    checkpoint covers it yet. Raises MeshError for an index the log does not hold."""
    entry = LogEntry.objects.filter(index=index).first()
    if entry is None or index < 0:
        raise MeshError(
            f"The log has no entry {index}; it holds {log_size()} entries.", code="no_such_entry", status=404
        )
    checkpoint = latest_checkpoint()
    if checkpoint is None or checkpoint.size <= index:
        return None
    proof = merkle.inclusion_proof(index, checkpoint.size, DatabaseNodes())
    data = bytes(entry.entry)
    text = format_bundle(index=index, proof=proof, checkpoint_note=checkpoint.note, entry=data)
    return InclusionBundle(index=index, checkpoint=checkpoint, proof=proof, entry=data, text=text)


def entries_page(*, start: int, limit: int) -> list[LogEntry]:
    return list(LogEntry.objects.filter(index__gte=start).order_by("index")[:limit])


def events_page(*, topic: str | None, after: int, limit: int, public_only: bool = False) -> list[Event]:
    events = Event.objects.filter(log_index__gt=after)
    if topic:
        events = events.filter(topic=topic) if not topic.endswith(".") else events.filter(topic__startswith=topic)
    if public_only:
        events = events.filter(public=True)
    return list(events.order_by("log_index")[:limit])
