"""Offline-verifiable inclusion proofs in the C2SP tlog-proof@v1 text format (c2sp.org/tlog-proof).

Pure module: imports nothing from Django. A bundle is::

    c2sp.org/tlog-proof@v1
    extra <base64 of the exact leaf entry bytes>      (optional)
    index <leaf index, decimal, no leading zeros>
    <base64 inclusion proof hash, leaf's sibling first>  (zero or more lines)
    <empty line>
    <the signed checkpoint note, verbatim>

The ``extra`` line is not authenticated by itself: it is trusted only because the verifier recomputes the
leaf hash from it and checks the inclusion proof against the signed checkpoint.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mesh.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from mesh.note import Checkpoint, NoteError, Verifier, open_checkpoint, parse_note, strict_b64decode

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64  # an inclusion path in a tree of fewer than 2**64 leaves
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


class BundleError(ValueError):
    """A bundle is malformed or carries nothing to verify against; the message says what and where."""


@dataclass(frozen=True)
class ProofBundle:
    """A parsed bundle; the checkpoint is syntactically valid but its signature is not yet checked."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    checkpoint: Checkpoint
    extra: bytes | None = None


@dataclass(frozen=True)
class VerifiedInclusion:
    """What a successful :func:`verify_bundle` proved: ``entry`` is leaf ``index`` of the signed tree."""

    index: int
    size: int
    root: bytes
    origin: str
    entry: bytes


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _checkpoint_of(note: str) -> Checkpoint:
    try:
        text, _ = parse_note(note)
        return Checkpoint.parse(text)
    except NoteError as exc:
        raise BundleError(f"checkpoint: {exc}") from None


def format_bundle(*, index: int, proof: Sequence[bytes], checkpoint_note: str, entry: bytes | None = None) -> str:
    """Return the tlog-proof@v1 text for leaf ``index`` under the signed ``checkpoint_note``.

    ``entry`` (the exact leaf bytes) goes on the ``extra`` line so a verifier can recompute the leaf hash; when
    given, the proof is also checked against the checkpoint root first (ProofError), so a corrupt store never
    hands out a bundle that fails. Raises :class:`BundleError` for an unusable index, hash or checkpoint.
    """
    checkpoint = _checkpoint_of(checkpoint_note)
    if not 0 <= index < checkpoint.size:
        raise BundleError(f"index {index} is outside the checkpointed tree of size {checkpoint.size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise BundleError(f"every proof element must be a {HASH_SIZE}-byte hash")
    if entry is not None:
        verify_inclusion(leaf_hash(entry), index, checkpoint.size, proof, checkpoint.root_hash)
    lines = [HEADER, *([f"extra {_b64(entry)}"] if entry is not None else []), f"index {index}"]
    lines += [_b64(p) for p in proof]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse_bundle(text: str | bytes) -> ProofBundle:
    """Parse a tlog-proof@v1 bundle strictly, without checking signatures or the proof.

    Raises :class:`BundleError` naming the first defect: wrong header, truncation, lines out of order, bad
    base64, a hash of the wrong length, or a malformed checkpoint (which includes trailing garbage).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError as exc:
            raise BundleError(f"bundle is not valid UTF-8 (byte {exc.start})") from exc
    head, blank, checkpoint_note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise BundleError(f"not a tlog proof: the first line must be {HEADER!r}, got {lines[0][:40]!r}")
    if not blank:
        raise BundleError("truncated bundle: no empty line before the checkpoint")
    position, extra = 1, None
    if position < len(lines) and lines[position].startswith("extra "):
        extra = strict_b64decode(lines[position].removeprefix("extra "))
        if extra is None:
            raise BundleError(f"line {position + 1}: the extra data is not valid base64")
        position += 1
    index_line = lines[position] if position < len(lines) else ""
    if not (match := _INDEX.fullmatch(index_line)):
        raise BundleError(f"line {position + 1}: expected 'index N' (decimal, no leading zeros), got {index_line!r}")
    proof = []
    for number, line in enumerate(lines[position + 1 :], position + 2):
        if line.startswith(("extra ", "index ")):
            raise BundleError(
                f"line {number}: unexpected {line.split()[0]!r} line; order is header, extra, index, proof"
            )
        digest = strict_b64decode(line)
        if digest is None or len(digest) != HASH_SIZE:
            raise BundleError(f"line {number}: proof line is not base64 of a {HASH_SIZE}-byte hash")
        proof.append(digest)
    if len(proof) > MAX_PROOF_HASHES:
        raise BundleError(f"proof has {len(proof)} hashes; at most {MAX_PROOF_HASHES} are possible")
    return ProofBundle(int(match.group(1)), tuple(proof), checkpoint_note, _checkpoint_of(checkpoint_note), extra)


def verify_bundle(
    bundle_text: str | bytes, verifier_key: str | Verifier, *, entry: bytes | None = None
) -> VerifiedInclusion:
    """Verify a bundle: the checkpoint signature by ``verifier_key``, then the inclusion proof.

    The leaf is ``entry`` when given, else the bundle's ``extra`` bytes. Raises :class:`BundleError` (malformed,
    or no entry to check), :class:`~mesh.note.NoteError` (bad key, or checkpoint not validly signed by it) or
    :class:`~mesh.merkle.ProofError` (the proof does not put the entry in the signed tree).
    """
    verifier = verifier_key if isinstance(verifier_key, Verifier) else Verifier.from_key(verifier_key)
    bundle = parse_bundle(bundle_text)
    checkpoint = open_checkpoint(bundle.checkpoint_note, verifier)
    leaf = entry if entry is not None else bundle.extra
    if leaf is None:
        raise BundleError("the bundle has no 'extra' line with the entry; supply the entry bytes to check")
    verify_inclusion(leaf_hash(leaf), bundle.index, checkpoint.size, bundle.proof, checkpoint.root_hash)
    return VerifiedInclusion(bundle.index, checkpoint.size, checkpoint.root_hash, checkpoint.origin, leaf)


def entry_commits_digest(entry: bytes, digest: bytes) -> bool:
    """Return whether a log ``entry`` commits ``digest``.

    It does when the entry is exactly the digest bytes, or when it is a JSON object whose ``"digest"`` string is
    the digest in hex (any case), optionally after an ``algorithm:`` prefix such as ``sha256:``.
    """
    if entry == digest:
        return True
    try:
        record = json.loads(entry)
    except (ValueError, RecursionError):
        return False
    value = record.get("digest") if isinstance(record, dict) else None
    return isinstance(value, str) and value.rpartition(":")[2].lower() == digest.hex()
