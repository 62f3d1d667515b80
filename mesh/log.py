"""The Merkle log in the database: append under the sequencer lock, read nodes for proofs, sign checkpoints.

Appends happen inside the caller's transaction and hold the LogState row lock until it commits, so the log
has one sequencer whatever the number of processes. Checkpoints are signed on a cadence, never per append,
and never over a tree inconsistent with the previous checkpoint.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

import mesh.merkle as merkle
from mesh.identity import node_identity
from mesh.models import Checkpoint, LogEntry, LogState, TreeNode
from mesh.note import Checkpoint as CheckpointBody

logger = logging.getLogger(__name__)

NodeId = tuple[int, int]


class LogInconsistent(RuntimeError):
    """The stored tree does not extend the last signed checkpoint; the node refuses to sign."""


class DatabaseNodes:
    """A merkle.NodeReader over TreeNode rows: one query per batch."""

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        if not ids:
            return {}
        by_level: dict[int, list[int]] = {}
        for level, index in ids:
            by_level.setdefault(level, []).append(index)
        # Raw SQL: this runs for every proof, and building the equivalent ORM query costs more than running it.
        q = connection.ops.quote_name
        clauses, params = [], []
        for level, indexes in by_level.items():
            clauses.append(f"({q('level')} = %s AND {q('index')} IN ({', '.join(['%s'] * len(indexes))}))")
            params += [level, *indexes]
        columns = f"{q('level')}, {q('index')}, {q('hash')}"
        sql = f"SELECT {columns} FROM {q(TreeNode._meta.db_table)} WHERE {' OR '.join(clauses)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {(level, index): bytes(h) for level, index, h in cursor.fetchall()}


def _frontier_nodes(size: int, frontier: bytes) -> dict[NodeId, bytes]:
    ids = merkle.root_node_ids(size)
    return {node: frontier[i * 32 : (i + 1) * 32] for i, node in enumerate(ids)}


class _Nodes:
    def __init__(self, nodes: dict[NodeId, bytes]) -> None:
        self.nodes = nodes

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {i: self.nodes[i] for i in ids if i in self.nodes}


def _locked_state() -> LogState:
    """Return the sequencer row locked for this transaction, creating it on first use."""
    state = LogState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        try:
            with transaction.atomic():
                LogState.objects.create(pk=1)
        except IntegrityError:
            pass  # another process created it first
        state = LogState.objects.select_for_update().get(pk=1)
    return state


# The sequencer state (size, frontier) this process last wrote, per database alias. An append first tries
# ``UPDATE ... WHERE size = <kept> AND frontier = <kept>``: when it matches, that one statement both takes the row
# lock and proves the kept state is the stored one, so the SELECT ... FOR UPDATE is saved. When it matches nothing
# (another process appended, or the transaction that wrote it rolled back) the append reads the row under the lock
# as before. Correctness never rests on the kept value: only a row equal to it is updated.
_KEPT: dict[str, tuple[int, bytes]] = {}


def log_append(*, kind: str, entry: bytes) -> int:
    """Append ``entry`` as the next leaf and return its index. Must run inside a transaction.

    Locks the LogState row until the caller's transaction ends; writes the LogEntry and every tree node the
    leaf completes. The frontier in LogState supplies the left siblings, so no node is read.
    """
    return log_append_many([(kind, entry)])[0]


def log_append_many(entries: Sequence[tuple[str, bytes]]) -> list[int]:
    """Append ``(kind, entry)`` pairs as consecutive leaves and return their indexes. Must run inside a transaction.

    Three statements however many entries (the sequencer update, one multi-row insert of the entries, one of the
    tree nodes they complete), four when another process appended since this one last did. Plain SQL: this runs
    once per sealed write, and the ORM's statement building would cost more than the statements.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_append must run inside transaction.atomic()")
    if not entries:
        return []
    q = connection.ops.quote_name
    state_table = q(LogState._meta.db_table)
    leaves = [merkle.leaf_hash(entry) for _kind, entry in entries]
    with connection.cursor() as cursor:
        kept = _KEPT.get(connection.alias)
        locked = False
        if kept is not None:
            first, frontier = kept
            created, new_frontier = _extend(first, frontier, leaves)
            cursor.execute(
                f"UPDATE {state_table} SET {q('size')} = %s, {q('frontier')} = %s "
                f"WHERE id = 1 AND {q('size')} = %s AND {q('frontier')} = %s",
                [first + len(leaves), new_frontier, first, frontier],
            )
            locked = cursor.rowcount == 1
        if not locked:
            lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
            cursor.execute(f"SELECT {q('size')}, {q('frontier')} FROM {state_table} WHERE id = 1{lock}")
            row = cursor.fetchone()
            if row is None:
                state = _locked_state()
                row = (state.size, bytes(state.frontier))
            first, frontier = row[0], bytes(row[1])
            created, new_frontier = _extend(first, frontier, leaves)
            cursor.execute(
                f"UPDATE {state_table} SET {q('size')} = %s, {q('frontier')} = %s WHERE id = 1",
                [first + len(leaves), new_frontier],
            )
        _KEPT[connection.alias] = (first + len(leaves), new_frontier)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            f"INSERT INTO {q(LogEntry._meta.db_table)} ({q('index')}, {q('kind')}, {q('entry')}, {q('created_at')}) "
            "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(entries)),
            [value for i, (kind, entry) in enumerate(entries) for value in (first + i, kind, entry, now)],
        )
        cursor.execute(
            f"INSERT INTO {q(TreeNode._meta.db_table)} ({q('level')}, {q('index')}, {q('hash')}) VALUES "
            + ", ".join(["(%s, %s, %s)"] * len(created)),
            [value for (level, node_index), h in created for value in (level, node_index, h)],
        )
    transaction.on_commit(_checkpoint_soon)
    return list(range(first, first + len(entries)))


def _extend(size: int, frontier: bytes, leaves: list[bytes]) -> tuple[list[tuple[NodeId, bytes]], bytes]:
    """Return the tree nodes completed by appending ``leaves`` to a tree of ``size`` with ``frontier``, and the
    frontier of the grown tree. Pure: nothing is read or written."""
    nodes = _Nodes(_frontier_nodes(size, frontier))
    created: list[tuple[NodeId, bytes]] = []
    for offset, leaf in enumerate(leaves):
        completed = merkle.nodes_completed_by_append(size + offset, leaf, nodes)
        nodes.nodes.update(completed)
        created += completed
    end = size + len(leaves)
    return created, b"".join(nodes.nodes[node] for node in merkle.root_node_ids(end))


def log_size() -> int:
    state = LogState.objects.filter(pk=1).first()
    return state.size if state else 0


def tree_root(size: int) -> bytes:
    return merkle.root(size, DatabaseNodes())


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def checkpoint_sign(*, force: bool = False) -> Checkpoint | None:
    """Sign a checkpoint over the current log if it grew since the last one; return it (or None).

    Verifies a consistency proof from the previous checkpoint to the new tree before signing and raises
    LogInconsistent (logged as critical) when it fails. Without ``force``, signs only when the cadence is
    due: MESH_CHECKPOINT_INTERVAL_S since the last checkpoint, or MESH_CHECKPOINT_EVERY entries behind.
    """
    with transaction.atomic():
        state = _locked_state()  # the log cannot grow while we sign
        previous = Checkpoint.objects.select_for_update().order_by("-size").first()
        old_size = previous.size if previous else 0
        if state.size == 0 or state.size == old_size:
            return None
        if not force and previous is not None:
            behind = state.size - old_size
            age = timezone.now() - previous.created_at
            if behind < settings.MESH_CHECKPOINT_EVERY and age < timedelta(seconds=settings.MESH_CHECKPOINT_INTERVAL_S):
                return None
        reader = DatabaseNodes()
        root = merkle.root(state.size, reader)
        if previous is not None:
            proof = merkle.consistency_proof(old_size, state.size, reader)
            try:
                merkle.verify_consistency(old_size, state.size, bytes(previous.root_hash), root, proof)
            except merkle.ProofError as exc:
                logger.critical("Refusing to sign: tree of size %s does not extend checkpoint %s: %s",
                                state.size, old_size, exc)  # fmt: skip
                raise LogInconsistent(
                    f"the tree of size {state.size} is not consistent with the signed checkpoint at size {old_size}: "
                    f"{exc}. Run `manage.py mesh_audit` to find the damaged entry."
                ) from exc
        identity = node_identity()
        body = CheckpointBody(identity.origin, state.size, root)
        note = identity.signer.sign(body.to_text())
        return Checkpoint.objects.create(size=state.size, root_hash=root, note=note)


# In-process cadence: after an append commits, make sure a checkpoint follows within the interval even if
# no further entries arrive. One timer per process at a time; a scheduled task covers stragglers too.
_timer_lock = threading.Lock()
_timer: threading.Timer | None = None
_exit_hook = False


def _checkpoint_at_exit() -> None:
    with _timer_lock:
        pending = _timer is not None and _timer.is_alive()
        if pending:
            _timer.cancel()
    if pending:
        try:
            checkpoint_sign(force=True)
        except Exception:
            logger.exception("Checkpoint signing at exit failed")


def _checkpoint_soon() -> None:
    global _timer, _exit_hook
    if not settings.MESH_CHECKPOINT_TIMER:
        return
    with _timer_lock:
        if not _exit_hook:
            # A short-lived process (a script, a management command) may exit before its timer fires.
            atexit.register(_checkpoint_at_exit)
            _exit_hook = True
        if _timer is not None and _timer.is_alive():
            return
        _timer = threading.Timer(settings.MESH_CHECKPOINT_INTERVAL_S, _timer_fired)
        _timer.daemon = True
        _timer.start()


def _timer_fired() -> None:
    global _timer
    close_old_connections()
    behind = False
    try:
        checkpoint_sign()
        behind = latest_checkpoint_size() < log_size()
    except Exception:
        logger.exception("Checkpoint signing failed")
    finally:
        connection.close()
        with _timer_lock:
            _timer = None
    if behind:  # entries arrived while signing, or the cadence was not due yet
        _checkpoint_soon()


def latest_checkpoint_size() -> int:
    checkpoint = latest_checkpoint()
    return checkpoint.size if checkpoint else 0
