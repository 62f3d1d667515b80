"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, and tlog checkpoints (c2sp.org/tlog-checkpoint).

Pure module: imports nothing from Django. A note is text ending in a newline, a blank line, then signature
lines ``— <key name> base64(key ID || signature)``. The text is separated from the signatures by the *last*
blank line, so the text itself may contain blank lines. The key ID is the first four bytes of
SHA-256(name || 0x0A || 0x01 || public key); a verifier key is ``name+hex(key ID)+base64(0x01 || public key)``.
Verification follows the Go reference (golang.org/x/mod/sumdb/note): signatures from other keys are ignored,
the first signature by the trusted (name, key ID) decides, and a bad one rejects the whole note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # the Go reference's cap; the spec requires accepting at least 16
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A note, verifier key or checkpoint is malformed or fails verification; the message says why."""


def strict_b64decode(value: str) -> bytes | None:
    """Return the bytes of ``value`` if it is canonical standard base64 (RFC 4648 §4), else None.

    Canonical means padded, no characters outside the alphabet, and no stray bits: exactly what an encoder
    writes, so one byte string has one text form.
    """
    if not value.isascii():
        return None
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if base64.b64encode(decoded).decode() == value else None


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def check_key_name(name: str) -> None:
    """Raise :class:`NoteError` unless ``name`` is a valid key name: non-empty, no spaces, no '+'."""
    if not name:
        raise NoteError("key name is empty")
    if any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise NoteError(f"key name {name!r} must not contain spaces, '+' or control characters")


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte C2SP key ID of an Ed25519 ``public_key`` under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteSignature:
    """One parsed, not yet verified, signature line."""

    name: str
    key_id: bytes
    signature: bytes


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split ``note`` into its text (with the final newline) and its signature lines, checking only syntax.

    Raises :class:`NoteError` for invalid UTF-8, control characters, a missing blank line or signature block,
    a missing final newline, more than :data:`MAX_SIGNATURES` lines, or a malformed signature line.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode()
        except UnicodeDecodeError as exc:
            raise NoteError(f"note is not valid UTF-8 (byte {exc.start})") from exc
    if control := _CONTROL.search(note):
        raise NoteError(f"note contains control character U+{ord(control.group()):04X} at offset {control.start()}")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line separates the text from the signature lines")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("malformed note: no signature lines after the blank line")
    if not block.endswith("\n"):
        raise NoteError("malformed note: the last signature line does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are accepted")
    signatures = []
    for number, line in enumerate(lines, 1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {number}: it must start with an em dash (U+2014) and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            check_key_name(name)
        except NoteError as exc:
            raise NoteError(f"malformed signature line {number}: {exc}") from None
        raw = strict_b64decode(encoded)
        if raw is None or len(raw) < 5:
            raise NoteError(f"malformed signature line {number}: expected base64 of a 4-byte key ID and a signature")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, signatures


class Signer:
    """Sign note texts with an Ed25519 key under a key name."""

    def __init__(self, name: str, signing_key: nacl.signing.SigningKey) -> None:
        check_key_name(name)
        self.name = name
        self._signing_key = signing_key
        self.public_key = bytes(signing_key.verify_key)
        self.key_id = key_id(name, self.public_key)

    @property
    def verifier_key(self) -> str:
        """Return the verifier key string ``name+hex(key ID)+base64(0x01 || public key)`` to publish."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def sign(self, text: str) -> str:
        """Return ``text`` as a signed note carrying one signature line by this key.

        ``text`` must end in a newline and hold no control characters other than newline (NoteError if not).
        """
        if not text.endswith("\n"):
            raise NoteError("note text must end in a newline")
        if control := _CONTROL.search(text):
            raise NoteError(f"note text contains control character U+{ord(control.group()):04X}")
        try:
            message = text.encode()
        except UnicodeEncodeError as exc:
            raise NoteError("note text is not encodable as UTF-8") from exc
        signature = self._signing_key.sign(message).signature
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {_b64(self.key_id + signature)}\n"


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 key: its name, key ID and 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``name+hex(key ID)+base64(0x01 || public key)``.

        Raises :class:`NoteError` naming the defect: shape, name, key ID syntax, base64, algorithm, key length,
        or a key ID that does not match the name and key.
        """
        parts = vkey.strip().split("+", 2)  # the base64 key may itself contain '+'
        if len(parts) != 3:
            raise NoteError("verifier key must have the form name+keyid+base64key")
        name, id_hex, encoded = parts
        try:
            check_key_name(name)
        except NoteError as exc:
            raise NoteError(f"verifier key: {exc}") from None
        if not _KEY_ID_HEX.fullmatch(id_hex):
            raise NoteError(f"verifier key ID {id_hex!r} must be 8 hexadecimal digits")
        raw = strict_b64decode(encoded)
        if not raw:
            raise NoteError("verifier key: the public key part is not valid base64")
        if raw[0] != ALG_ED25519:
            raise NoteError(f"verifier key uses signature type 0x{raw[0]:02x}; only Ed25519 (0x01) is supported")
        if len(raw) != 33:
            raise NoteError(f"verifier key: an Ed25519 public key is 32 bytes, got {len(raw) - 1}")
        expected = key_id(name, raw[1:])
        if bytes.fromhex(id_hex) != expected:
            raise NoteError(
                f"verifier key ID {id_hex.lower()} does not match its name and public key (expected {expected.hex()})"
            )
        return cls(name, expected, raw[1:])

    @property
    def label(self) -> str:
        """Return ``name+hex(key ID)``, how messages name this key."""
        return f"{self.name}+{self.key_id.hex()}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature over ``text``."""
        try:
            nacl.signing.VerifyKey(self.public_key).verify(text.encode(), signature)
        except nacl.exceptions.CryptoError:
            return False
        return True


def verify_note(note: str | bytes, verifier: Verifier) -> str:
    """Return the text of ``note`` if it carries a valid signature by ``verifier``.

    Raises :class:`NoteError` if the note is malformed, if the first signature line with the verifier's name
    and key ID does not verify (the note was altered), or if there is no such line; the message then tells a
    key ID mismatch (same name, another key) and a name mismatch (same key ID, another name) apart.
    """
    text, signatures = parse_note(note)
    for sig in signatures:
        if sig.name == verifier.name and sig.key_id == verifier.key_id:
            if not verifier.verify(text, sig.signature):
                raise NoteError(f"bad signature by {verifier.label}: the note text was altered or forged")
            return text
    if same_name := [s for s in signatures if s.name == verifier.name]:
        raise NoteError(
            f"no signature by {verifier.label}: the note is signed as {verifier.name} "
            f"by key ID {same_name[0].key_id.hex()}, a different key"
        )
    if same_id := [s for s in signatures if s.key_id == verifier.key_id]:
        raise NoteError(
            f"no signature by {verifier.label}: name mismatch, the signature with its key ID names {same_id[0].name!r}"
        )
    found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
    raise NoteError(f"no signature by {verifier.label}; the note is signed by {found}")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, root hash and optional extension lines.

    Construction validates every field (NoteError), so a Checkpoint always formats to a parseable text.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        if not self.origin or _CONTROL.search(self.origin) or "\n" in self.origin:
            raise NoteError(f"checkpoint origin {self.origin!r} must be a non-empty line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size < 2**64:
            raise NoteError(f"checkpoint size {self.size!r} must be an integer in [0, 2**64)")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise NoteError("checkpoint root hash must be 32 bytes")
        for number, line in enumerate(self.extensions, 1):
            if not line or _CONTROL.search(line) or "\n" in line:
                raise NoteError(f"checkpoint extension line {number} must be a non-empty line")

    def to_text(self) -> str:
        """Return the checkpoint note text (origin, size, base64 root, extensions), newline-terminated."""
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), _b64(self.root_hash), *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly; raises :class:`NoteError` naming the bad line."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint needs origin, size and root hash lines; got {len(lines)} line(s)")
        origin, size, encoded, *extensions = lines
        if not origin:
            raise NoteError("checkpoint origin line is empty")
        if not _DECIMAL.fullmatch(size):
            raise NoteError(f"checkpoint size {size!r} is not a decimal number without leading zeros")
        root_hash = strict_b64decode(encoded)
        if root_hash is None or len(root_hash) != 32:
            raise NoteError(f"checkpoint root hash {encoded!r} is not base64 of a 32-byte hash")
        return cls(origin, int(size), root_hash, tuple(extensions))


def open_checkpoint(note: str | bytes, verifier: Verifier) -> Checkpoint:
    """Verify a signed checkpoint note with ``verifier`` and return the parsed checkpoint (NoteError if not)."""
    return Checkpoint.parse(verify_note(note, verifier))
