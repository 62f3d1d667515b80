"""C2SP tlog-witness request bodies (c2sp.org/tlog-witness) and Ed25519 cosignatures (c2sp.org/tlog-cosignature).

Pure module: imports nothing from Django. An ``add-checkpoint`` body is an ``old N`` line, up to 63 base64
consistency-proof lines, an empty line, then the signed checkpoint note. A cosignature/v1 is a note signature
line whose key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4] and whose signature is an 8-byte big-endian
POSIX timestamp followed by the Ed25519 signature over ``cosignature/v1\\ntime <t>\\n`` + the checkpoint text.

A DreamNet node cosigns with its node key under its log origin: the 0x04 key ID keeps cosignatures apart from
the node's own 0x01 checkpoint signatures, and the domain-separating header keeps the signed messages apart.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from mesh.note import SIGNATURE_PREFIX, NoteError, NoteSignature, check_key_name, strict_b64decode

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class WitnessRequestError(ValueError):
    """An add-checkpoint body is malformed; the message names the bad line (HTTP 400)."""


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of a cosignature/v1 key: the node key under ``name`` with algorithm 0x04."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key).digest()[:4]


def cosigner_vkey(name: str, public_key: bytes) -> str:
    """Return the cosigner's verifier key ``name+hex(key ID)+base64(0x04 || public key)``."""
    check_key_name(name)
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{_b64(bytes([ALG_COSIGNATURE_V1]) + public_key)}"


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """Return the bytes a cosignature/v1 signs: the header, the time line and the whole checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, *, name: str, signing_key: nacl.signing.SigningKey, timestamp: int) -> str:
    """Return one cosignature/v1 signature line (ending in a newline) over ``checkpoint_text``."""
    if not 0 <= timestamp < 2**63:
        raise NoteError(f"cosignature timestamp {timestamp} must be in [0, 2**63)")
    if not checkpoint_text.endswith("\n"):
        raise NoteError("checkpoint text must end in a newline")
    signature = signing_key.sign(cosigned_message(checkpoint_text, timestamp)).signature
    key_id = cosigner_key_id(name, bytes(signing_key.verify_key))
    return f"{SIGNATURE_PREFIX}{name} {_b64(key_id + timestamp.to_bytes(8, 'big') + signature)}\n"


def verify_cosignature(
    checkpoint_text: str, signatures: list[NoteSignature], *, name: str, public_key: bytes
) -> tuple[NoteSignature, int] | None:
    """Return the cosignature by (``name``, ``public_key``) among ``signatures`` and its timestamp, or None.

    Lines by other keys are ignored, as the spec requires. Raises :class:`NoteError` if the first line with
    the cosigner's name and key ID is malformed or does not verify.
    """
    key_id = cosigner_key_id(name, public_key)
    for sig in signatures:
        if sig.name != name or sig.key_id != key_id:
            continue
        if len(sig.signature) != 8 + 64:
            raise NoteError(f"cosignature by {name} is {len(sig.signature)} bytes; a timestamped Ed25519 one is 72")
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if timestamp >= 2**63:
            raise NoteError(f"cosignature by {name} has a timestamp beyond 2**63 - 1")
        try:
            nacl.signing.VerifyKey(public_key).verify(cosigned_message(checkpoint_text, timestamp), sig.signature[8:])
        except nacl.exceptions.CryptoError:
            raise NoteError(f"bad cosignature by {name}: it does not verify over this checkpoint") from None
        return sig, timestamp
    return None


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request: the old size, the consistency proof and the checkpoint note."""

    old: int
    proof: list[bytes]
    note: str


def format_add_checkpoint(*, old: int, proof: list[bytes], note: str) -> bytes:
    """Return the add-checkpoint request body for ``note`` with a proof from size ``old``."""
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes, got {len(proof)}")
    lines = [f"old {old}", *(_b64(h) for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an add-checkpoint body strictly; raise :class:`WitnessRequestError` naming the defect.

    The note after the empty line is returned as text; its signatures and checkpoint are checked by the caller.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise WitnessRequestError(f"the request body is not valid UTF-8 (byte {exc.start})") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRequestError("no empty line separates the old size and proof from the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        raise WitnessRequestError(
            f"the first line must be 'old <size>' in decimal without leading zeros, got {first!r}"
        )
    old = int(first[4:])
    if old >= 2**64:
        raise WitnessRequestError(f"old size {old} does not fit in 64 bits")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRequestError(f"{len(lines) - 1} consistency proof lines; at most {MAX_PROOF_LINES} are allowed")
    proof = []
    for number, line in enumerate(lines[1:], 2):
        value = strict_b64decode(line)
        if value is None or len(value) != 32:
            raise WitnessRequestError(f"line {number} is not base64 of a 32-byte hash")
        proof.append(value)
    if not note:
        raise WitnessRequestError("the checkpoint note after the empty line is missing")
    return AddCheckpoint(old=old, proof=proof, note=note)


def parse_size_body(body: bytes) -> int | None:
    """Return the size in a 409 ``text/x.tlog.size`` body (``N\\n``), or None if it is not one."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text.endswith("\n") or not _DECIMAL.fullmatch(text[:-1]):
        return None
    return int(text[:-1])
