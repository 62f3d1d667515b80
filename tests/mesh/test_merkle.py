"""RFC 9162 Merkle tree: published test vectors, the stored-node scheme against a naive reference, and tamper checks."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesh.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    MissingNodeError,
    NodeId,
    ProofError,
    consistency_node_ids,
    consistency_proof,
    inclusion_node_ids,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    root,
    root_node_ids,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[1] / "data" / "merkle-vectors"  # see tests/data/README.md
# The leaves behind the vectors (the Certificate Transparency test leaves).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
MAX_SIZE = 2000
ENTRIES = [f"entry-{i}".encode() for i in range(MAX_SIZE)]
TREE = MemoryTree(ENTRIES)


def _vector_params(kind: str) -> list:
    folder = VECTORS / kind
    files = sorted(folder.rglob("*.json"))
    if not files:  # the vectors are part of the repository: their absence is a failure, never a skip
        raise FileNotFoundError(f"No Merkle test vectors under {folder}")
    return [pytest.param(path, id=str(path.relative_to(folder))) for path in files]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


@pytest.mark.parametrize("path", _vector_params("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vector_params("consistency"))
def test_consistency_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), _proof(case))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_it_generates_the_happy_path_proofs_of_the_vectors() -> None:
    tree = MemoryTree(CT_LEAVES)
    paths = sorted(VECTORS.glob("*/*/happy-path.json"))
    assert paths, f"no happy-path vectors under {VECTORS}"
    for path in paths:
        case = json.loads(path.read_text())
        if "leafIdx" in case:
            assert inclusion_proof(case["leafIdx"], case["treeSize"], tree) == _proof(case), path
            assert root(case["treeSize"], tree) == _b64(case["root"])
        else:
            assert consistency_proof(case["size1"], case["size2"], tree) == _proof(case), path
            assert root(case["size1"], tree) == _b64(case["root1"])


# --- naive reference: the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 ------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_mth(lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + ENTRIES[lo]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + ref_mth(lo, lo + k) + ref_mth(lo + k, hi)).digest()


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, lo, lo + k), ref_mth(lo + k, hi)]
    return [*ref_path(m - k, lo + k, hi), ref_mth(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if whole else [ref_mth(lo, hi)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, whole), ref_mth(lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), ref_mth(lo, lo + k)]


def _flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


sizes = st.integers(min_value=1, max_value=MAX_SIZE)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), size=sizes)
def test_stored_nodes_give_the_reference_root_and_proofs(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(0, size), label="old")
    assert root(size, TREE) == ref_mth(0, size)
    path = inclusion_proof(index, size, TREE)
    assert path == ref_path(index, 0, size)
    verify_inclusion(leaf_hash(ENTRIES[index]), index, size, path, ref_mth(0, size))
    proof = consistency_proof(old, size, TREE)
    assert proof == ([] if old in (0, size) else ref_subproof(old, 0, size, True))
    verify_consistency(old, size, ref_mth(0, old), ref_mth(0, size), proof)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), size=sizes, bit=st.integers(0, 255))
def test_flipping_one_bit_of_an_inclusion_proof_or_root_fails(data: st.DataObject, size: int, bit: int) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, tree_root = leaf_hash(ENTRIES[index]), root(size, TREE)
    path = inclusion_proof(index, size, TREE)
    target = data.draw(st.integers(-2, len(path) - 1), label="target")  # -2 leaf, -1 root, else an element
    if target == -2:
        leaf = _flip(leaf, bit)
    elif target == -1:
        tree_root = _flip(tree_root, bit)
    else:
        path[target] = _flip(path[target], bit)
    with pytest.raises(ProofError, match="mismatch"):
        verify_inclusion(leaf, index, size, path, tree_root)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), new=sizes, bit=st.integers(0, 255))
def test_flipping_one_bit_of_a_consistency_proof_or_root_fails(data: st.DataObject, new: int, bit: int) -> None:
    old = data.draw(st.integers(1, new), label="old")
    roots = [root(old, TREE), root(new, TREE)]
    proof = consistency_proof(old, new, TREE)
    target = data.draw(st.integers(-2, len(proof) - 1), label="target")  # -2 old root, -1 new root
    if target < 0:
        roots[target + 2] = _flip(roots[target + 2], bit)
    else:
        proof[target] = _flip(proof[target], bit)
    with pytest.raises(ProofError, match="mismatch"):
        verify_consistency(old, new, roots[0], roots[1], proof)


def test_appending_stores_every_complete_subtree_and_nothing_else() -> None:
    tree = MemoryTree(ENTRIES[:300])
    expected = {
        (level, i): ref_mth(i << level, (i + 1) << level)
        for level in range(9)
        for i in range(300 >> level)  # the aligned nodes whose leaf range ends at or before leaf 300
    }
    assert tree.get_nodes(list(expected)) == expected
    assert tree.get_nodes([(level, 300 >> level) for level in range(10)]) == {}  # first incomplete node per level


def test_an_append_reports_the_leaf_and_the_parents_it_completes() -> None:
    tree = MemoryTree(ENTRIES[:7])
    completed = nodes_completed_by_append(7, leaf_hash(ENTRIES[7]), tree)
    assert [node for node, _ in completed] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert completed[0][1] == leaf_hash(ENTRIES[7])
    assert completed[-1][1] == ref_mth(0, 8)
    assert [node for node, _ in nodes_completed_by_append(8, leaf_hash(ENTRIES[8]), tree)] == [(0, 8)]
    with pytest.raises(ValueError, match="32-byte leaf hash, got 7 bytes"):
        nodes_completed_by_append(8, ENTRIES[8], tree)


class CountingReader:
    def __init__(self, tree: MemoryTree) -> None:
        self.tree, self.calls = tree, []

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        self.calls.append(list(ids))
        return self.tree.get_nodes(ids)


@pytest.mark.parametrize("size", [1, 2, 7, 8, 1000, 1023, 1024, 1025, MAX_SIZE - 1])
def test_each_result_costs_one_logarithmic_read(size: int) -> None:
    bound = 2 * math.ceil(math.log2(size + 1)) + 1
    for compute, ids in [
        (lambda r: root(size, r), root_node_ids(size)),
        (lambda r: inclusion_proof(size // 3, size, r), inclusion_node_ids(size // 3, size)),
        (lambda r: inclusion_proof(size - 1, size, r), inclusion_node_ids(size - 1, size)),
        (lambda r: consistency_proof(size // 2 + 1, size, r), consistency_node_ids(size // 2 + 1, size)),
        (lambda r: nodes_completed_by_append(size, leaf_hash(b"next"), r), None),
    ]:
        reader = CountingReader(TREE)
        compute(reader)
        assert len(reader.calls) <= 1
        assert all(len(call) <= bound for call in reader.calls)
        if ids is not None:
            assert reader.calls == ([ids] if ids else [])


def test_the_empty_tree() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root(0, MemoryTree()) == EMPTY_ROOT
    assert consistency_proof(0, 5, TREE) == []
    verify_consistency(0, 5, EMPTY_ROOT, root(5, TREE), [])
    with pytest.raises(ProofError, match="size 0 has the SHA-256 hash of the empty string"):
        verify_consistency(0, 5, root(5, TREE), root(5, TREE), [])


def test_node_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_it_refuses_proofs_it_cannot_build() -> None:
    tree = MemoryTree(ENTRIES[:10])
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(10, 10, tree)
    with pytest.raises(ValueError, match="smaller size"):
        consistency_proof(6, 5, tree)
    with pytest.raises(MissingNodeError, match="not stored"):
        inclusion_proof(3, 11, tree)
    with pytest.raises(MissingNodeError):
        root(12, tree)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((b"\x00" * 31, 0, 1, [], b"\x00" * 32), "leaf hash is 31 bytes"),
        ((b"\x00" * 32, 1, 1, [], b"\x00" * 32), "leaf index 1 is out of range for a tree of size 1"),
        ((b"\x00" * 32, 0, 4, [b"\x00" * 32], b"\x00" * 32), "too few hashes"),
        ((b"\x00" * 32, 0, 2, [b"\x00" * 32] * 2, b"\x00" * 32), "too many hashes"),
        ((b"\x00" * 32, 0, 2, [b""], b"\x00" * 32), "proof element 0 is 0 bytes"),
    ],
)
def test_inclusion_failures_say_why(args: tuple, reason: str) -> None:
    with pytest.raises(ProofError, match=reason):
        verify_inclusion(*args)


def test_consistency_failures_say_why() -> None:
    r5, r9 = root(5, TREE), root(9, TREE)
    proof = consistency_proof(5, 9, TREE)
    with pytest.raises(ProofError, match="old size 9 must be between 0 and the new size 5"):
        verify_consistency(9, 5, r9, r5, proof)
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(5, 9, r5, r9, [])
    with pytest.raises(ProofError, match="too few hashes"):
        verify_consistency(5, 9, r5, r9, proof[:-1])
    with pytest.raises(ProofError, match="too many hashes"):
        verify_consistency(5, 9, r5, r9, [*proof, r9])
    with pytest.raises(ProofError, match="expected an empty proof"):
        verify_consistency(9, 9, r9, r9, proof)
    with pytest.raises(ProofError, match="two different roots for the same tree size 9"):
        verify_consistency(9, 9, r9, r5, [])
