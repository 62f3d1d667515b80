"""Recompute the log from the rows it seals and check every stored node and checkpoint signature.

Used by ``manage.py mesh_audit`` and the console. Reads in index order, in batches, so memory stays flat in
the rows and grows only with the number of leaves' hashes (32 bytes each).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

import nacl.exceptions

import mesh.merkle as merkle
from mesh.entries import blake3_hex, canonical_json, dreamsnail_entry, event_entry, receipt_entry
from mesh.identity import node_identity
from mesh.models import Checkpoint, Event, LogEntry, LogState, Receipt, TrailCommit, TreeNode
from mesh.note import NoteError, Verifier, open_checkpoint

BATCH = 2000


@dataclass
class AuditReport:
    size: int = 0
    checkpoints: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indexes = [i for i, _ in self.problems if i is not None]
        return min(indexes) if indexes else None


def _expected_entry(row: LogEntry, sealed: dict) -> tuple[bytes | None, str]:
    """Rebuild the entry bytes from the domain row; return (bytes or None, problem or '')."""
    from mesh.services import receipt_body

    target = sealed.get(row.index)
    if target is None:
        return None, f"no {row.kind} row is sealed at this index"
    if row.kind == LogEntry.Kind.EVENT:
        digest = blake3_hex(canonical_json(target.payload))
        if digest != target.payload_blake3:
            return (
                None,
                f"event payload was changed: its BLAKE3 is {digest[:16]}…, sealed {target.payload_blake3[:16]}…",
            )
        return event_entry(topic=target.topic, payload_blake3=digest, actor=target.actor,
                           created_at=target.created_at.isoformat()), ""  # fmt: skip
    if row.kind == LogEntry.Kind.RECEIPT:
        if blake3_hex(canonical_json(target.inputs)) != target.inputs_blake3:
            return None, "receipt inputs were changed"
        if blake3_hex(canonical_json(target.outputs)) != target.outputs_blake3:
            return None, "receipt outputs were changed"
        body = receipt_body(target)
        try:
            node_identity().signing_key.verify_key.verify(canonical_json(body), base64.b64decode(target.signature))
        except (nacl.exceptions.BadSignatureError, ValueError):
            return None, "receipt signature does not match its fields"
        return receipt_entry(body=body, signature=target.signature), ""
    return dreamsnail_entry(algorithm=target.algorithm, digest=target.digest), ""


def _batches() -> Iterator[list[LogEntry]]:
    start = 0
    while True:
        rows = list(LogEntry.objects.filter(index__gte=start).order_by("index")[:BATCH])
        if not rows:
            return
        yield rows
        start = rows[-1].index + 1


def log_audit() -> AuditReport:
    """Check every entry, tree node and checkpoint; report problems in index order."""
    report = AuditReport()
    state = LogState.objects.filter(pk=1).first()
    report.size = state.size if state else 0
    tree = merkle.MemoryTree()
    for rows in _batches():
        lo, hi = rows[0].index, rows[-1].index
        sealed: dict[int, object] = {}
        for model in (Event, Receipt, TrailCommit):
            sealed.update({r.log_index: r for r in model.objects.filter(log_index__gte=lo, log_index__lte=hi)})
        for row in rows:
            if row.index != tree.size:
                report.problems.append((tree.size, f"entry {tree.size} is missing (next stored is {row.index})"))
                return report
            stored = bytes(row.entry)
            expected, problem = _expected_entry(row, sealed)
            if problem:
                report.problems.append((row.index, problem))
            elif expected != stored:
                report.problems.append((row.index, "stored entry bytes differ from the ones rebuilt from its row"))
            tree.append(stored)
    if tree.size != report.size:
        report.problems.append((tree.size, f"the sequencer says {report.size} entries, the log holds {tree.size}"))
    _check_nodes(tree, report)
    _check_checkpoints(tree, report)
    report.problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
    return report


def _check_nodes(tree: merkle.MemoryTree, report: AuditReport) -> None:
    seen = 0
    for node in TreeNode.objects.order_by("level", "index").iterator(chunk_size=BATCH):
        seen += 1
        expected = tree.get_nodes([(node.level, node.index)]).get((node.level, node.index))
        if expected != bytes(node.hash):
            first_leaf = node.index << node.level
            report.problems.append((first_leaf, f"tree node ({node.level}, {node.index}) does not match its leaves"))
    expected_count = sum(tree.size >> level for level in range(max(tree.size.bit_length(), 1)))
    if seen != expected_count:
        report.problems.append(
            (None, f"{seen} tree nodes are stored; a tree of {tree.size} leaves has {expected_count}")
        )


def _check_checkpoints(tree: merkle.MemoryTree, report: AuditReport) -> None:
    verifier = Verifier.from_key(node_identity().verifier_key)
    for checkpoint in Checkpoint.objects.order_by("size"):
        report.checkpoints += 1
        try:
            body = open_checkpoint(checkpoint.note, verifier)
        except NoteError as exc:
            report.problems.append((None, f"checkpoint at size {checkpoint.size}: signature check failed: {exc}"))
            continue
        if body.size != checkpoint.size or body.root_hash != bytes(checkpoint.root_hash):
            report.problems.append((None, f"checkpoint at size {checkpoint.size}: row and signed note disagree"))
        if checkpoint.size > tree.size:
            report.problems.append((None, f"checkpoint at size {checkpoint.size} is beyond the log ({tree.size})"))
        elif merkle.root(checkpoint.size, tree) != body.root_hash:
            report.problems.append((None, f"checkpoint at size {checkpoint.size} signs a root the log no longer has"))
