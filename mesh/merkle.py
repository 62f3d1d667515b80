"""RFC 9162 Merkle tree over SHA-256: hashing, proofs from stored subtrees, and proof verification.

Pure module: imports nothing from Django, so the offline verifier and tests can use it on their own.

Storage model. Only complete, aligned subtrees are stored, keyed ``(level, index)``: node ``(L, i)`` is the
Merkle tree hash (MTH) of leaves ``[i * 2**L, (i + 1) * 2**L)``; level 0 holds the leaf hashes. A complete node
never changes once written, so appending leaf ``n`` only adds the nodes listed by
:func:`nodes_completed_by_append`. Every subtree hash a proof needs (RFC 9162 §2.1.3.1 and §2.1.4.1) is either
a stored node or, at the right edge of the tree, the fold of the O(log n) stored nodes that decompose it; the
``*_node_ids`` planners name those nodes so a storage backend answers a whole proof with one batched read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

type NodeId = tuple[int, int]
type Range = tuple[int, int]


class ProofError(ValueError):
    """A proof, hash or tree size failed verification; the message says which check failed."""


class MissingNodeError(LookupError):
    """The node reader lacks a node the requested tree size needs (the tree is smaller than asked)."""


class NodeReader(Protocol):
    """Batch read access to stored complete nodes."""

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Return the hash of each stored node in ``ids``; ids that are not stored are simply absent."""
        ...


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- planning: which leaf ranges a result needs, and which stored nodes make them up ---------------------


def _split(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (n >= 2): RFC 9162's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_ids(start: int, end: int) -> list[NodeId]:
    """Return the complete aligned nodes that decompose ``[start, end)``, largest (leftmost) first.

    Every range here is an RFC subtree: ``start`` is aligned to a power of two >= ``end - start``, so the binary
    digits of the width, high to low, give aligned nodes, and MTH of the range is their right fold.
    """
    ids = []
    width = end - start
    for level in reversed(range(width.bit_length())):
        if width >> level & 1:
            ids.append((level, start >> level))
            start += 1 << level
    return ids


def _inclusion_ranges(index: int, size: int) -> list[Range]:
    """Return the leaf ranges of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is out of range for a tree of size {size}")
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    return ranges[::-1]


def _consistency_ranges(old: int, new: int) -> list[Range]:
    """Return the leaf ranges of PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1), deepest first.

    Empty when ``old`` is 0 or equals ``new``: there is nothing to prove.
    """
    if not 0 <= old <= new:
        raise ValueError(f"cannot prove consistency from size {old} to the smaller size {new}")
    if old in (0, new):
        return []
    ranges = []
    lo, hi, m, whole = 0, new, old, True  # SUBPROOF(m, D[lo:hi], whole), m counted from lo
    while m != hi - lo:
        mid = lo + _split(hi - lo)
        if m <= mid - lo:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            m -= mid - lo
            lo, whole = mid, False
    if not whole:
        ranges.append((lo, hi))
    return ranges[::-1]


def _unique_ids(ranges: Iterable[Range]) -> list[NodeId]:
    return list(dict.fromkeys(node for start, end in ranges for node in _range_ids(start, end)))


def root_node_ids(size: int) -> list[NodeId]:
    """Return the stored nodes whose fold is the root of the tree of ``size`` leaves (none when empty)."""
    if size < 0:
        raise ValueError(f"tree size must be >= 0, got {size}")
    return _range_ids(0, size)


def inclusion_node_ids(index: int, size: int) -> list[NodeId]:
    """Return the stored nodes an inclusion proof for leaf ``index`` in a tree of ``size`` needs (O(log n))."""
    return _unique_ids(_inclusion_ranges(index, size))


def consistency_node_ids(old: int, new: int) -> list[NodeId]:
    """Return the stored nodes a consistency proof from size ``old`` to size ``new`` needs (O(log n))."""
    return _unique_ids(_consistency_ranges(old, new))


def _read(reader: NodeReader, ids: list[NodeId]) -> Mapping[NodeId, bytes]:
    nodes = reader.get_nodes(ids) if ids else {}
    missing = [node for node in ids if node not in nodes]
    if missing:
        raise MissingNodeError(f"{len(missing)} node(s) not stored, first {missing[0]} (level, index)")
    return nodes


def _fold(ids: list[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    digest = nodes[ids[-1]]
    for node in reversed(ids[:-1]):
        digest = node_hash(nodes[node], digest)
    return digest


def _range_hashes(ranges: list[Range], reader: NodeReader) -> list[bytes]:
    nodes = _read(reader, _unique_ids(ranges))
    return [_fold(_range_ids(start, end), nodes) for start, end in ranges]


# --- reading results: one get_nodes call each ------------------------------------------------------------


def root(size: int, reader: NodeReader) -> bytes:
    """Return MTH of the first ``size`` leaves; :data:`EMPTY_ROOT` for size 0.

    Raises :class:`MissingNodeError` if the reader holds fewer than ``size`` leaves.
    """
    ids = root_node_ids(size)
    return _fold(ids, _read(reader, ids)) if ids else EMPTY_ROOT


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """Return the RFC 9162 inclusion path for leaf ``index`` in the tree of ``size`` leaves, bottom up.

    Raises ``ValueError`` if ``index`` is not below ``size``, :class:`MissingNodeError` if the tree is smaller.
    """
    return _range_hashes(_inclusion_ranges(index, size), reader)


def consistency_proof(old: int, new: int, reader: NodeReader) -> list[bytes]:
    """Return the RFC 9162 consistency path from size ``old`` to size ``new`` (empty if old is 0 or new).

    Raises ``ValueError`` if ``old > new``, :class:`MissingNodeError` if the tree is smaller than ``new``.
    """
    return _range_hashes(_consistency_ranges(old, new), reader)


def nodes_completed_by_append(index: int, leaf: bytes, reader: NodeReader) -> list[tuple[NodeId, bytes]]:
    """Return the nodes that become complete when leaf number ``index`` is appended.

    ``leaf`` is the 32-byte leaf hash, ``leaf_hash(entry)``, not the entry itself (ValueError otherwise). The
    result starts with ``((0, index), leaf)`` and climbs one level per trailing 1 bit of ``index``; the left
    siblings it combines with (the smallest nodes of ``root_node_ids(index)``, so a stored frontier suffices)
    are read from ``reader`` in one batch, so leaves ``0 .. index - 1`` must be stored already.
    """
    if index < 0:
        raise ValueError(f"leaf index must be >= 0, got {index}")
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"leaf must be a {HASH_SIZE}-byte leaf hash, got {len(leaf)} bytes")
    height = (~index & (index + 1)).bit_length() - 1  # number of trailing 1 bits
    siblings = [(level, (index >> level) - 1) for level in range(height)]
    nodes = _read(reader, siblings)
    digest = leaf
    completed = [((0, index), digest)]
    for level, sibling in enumerate(siblings):
        digest = node_hash(nodes[sibling], digest)
        completed.append(((level + 1, index >> (level + 1)), digest))
    return completed


# --- verification: RFC 9162 §2.1.3.2 and §2.1.4.2, step by step -----------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes; a SHA-256 hash is {HASH_SIZE}")


def _check_path(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        _check_hash(element, f"proof element {position}")


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves whose hash is ``root``.

    Returns None on success; raises :class:`ProofError` naming the failed check otherwise.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root hash")
    _check_path(proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is out of range for a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"proof has too many hashes: {len(proof)} for leaf {index} of a tree of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"proof has too few hashes: {len(proof)} for leaf {index} of a tree of size {size}")
    if r != root:
        raise ProofError("root mismatch: the proof does not lead from this leaf to the given root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``old_size`` leaves with ``old_root`` is a prefix of the ``new_size`` tree.

    A tree is consistent with itself only through an empty proof and equal roots; the empty tree (whose root
    must be :data:`EMPTY_ROOT`) is a prefix of every tree, also through an empty proof. Returns None on
    success; raises :class:`ProofError` naming the failed check otherwise.
    """
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_path(proof)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} must be between 0 and the new size {new_size}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError(f"expected an empty proof from size {old_size} to {new_size}, got {len(proof)} hashes")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError("old root mismatch: a tree of size 0 has the SHA-256 hash of the empty string")
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"root mismatch: two different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError(f"empty proof: size {old_size} to {new_size} needs at least one hash")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"proof has too many hashes: {len(proof)} for size {old_size} to {new_size}")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"proof has too few hashes: {len(proof)} for size {old_size} to {new_size}")
    if fr != old_root:
        raise ProofError("old root mismatch: the proof does not reproduce the old tree's root")
    if sr != new_root:
        raise ProofError("new root mismatch: the proof does not reproduce the new tree's root")


class MemoryTree:
    """An in-memory Merkle log using the stored-node scheme; a :class:`NodeReader` for tests and offline use."""

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self._nodes: dict[NodeId, bytes] = {}
        self._size = 0
        for entry in entries:
            self.append(entry)

    @property
    def size(self) -> int:
        """Return the number of leaves appended so far."""
        return self._size

    def append(self, entry: bytes) -> int:
        """Append ``entry`` as the next leaf and return its index."""
        index = self._size
        self._nodes.update(nodes_completed_by_append(index, leaf_hash(entry), self))
        self._size += 1
        return index

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """Return the stored nodes among ``ids``."""
        return {node: self._nodes[node] for node in ids if node in self._nodes}
