"""The ``.dreamfile`` format: a self-describing, self-verifying, content-addressed artifact file.

Pure module: imports nothing from Django. Layout, all integers big-endian::

    b"DRFL"            magic
    u8   version       1
    u8   flags         bits 0-1: compression (0 none, 1 zstd); every other bit must be 0
    u32  header_len
    header_len bytes   UTF-8 JSON object, keys sorted: name, media_type, size (content bytes), created
                       (ISO 8601 UTC, "Z"), blake3 (hex of the content: its address), payload_size (stored bytes)
    payload_size bytes the content, compressed as the flags say
    32 bytes           BLAKE3 of every byte before it

``payload_size`` is what lets a reader tell a truncated payload or digest from trailing bytes.
"""

from __future__ import annotations

import json
import re
import struct
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

import blake3
import zstandard

MAGIC = b"DRFL"
VERSION = 1
DIGEST_SIZE = 32
MAX_HEADER_SIZE = 64 * 1024
DEFAULT_MAX_SIZE = 1 << 30  # refuse to inflate more than this unless the caller raises it
_PREFIX = struct.Struct(">4sBBI")
_COMPRESSIONS = {"none": 0, "zstd": 1}
_COMPRESSION_MASK = 0b11
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_FIELDS: dict[str, type] = {
    "name": str,
    "media_type": str,
    "size": int,
    "created": str,
    "blake3": str,
    "payload_size": int,
}

type Compression = Literal["none", "zstd"]


class DreamfileError(ValueError):
    """A .dreamfile is malformed, altered or not what its header claims; the message says which check failed."""


class DreamfileHeader(TypedDict):
    name: str
    media_type: str
    size: int
    created: str
    blake3: str
    payload_size: int


def _check_header(header: dict[str, Any]) -> DreamfileHeader:
    """Return ``header`` if every field is present, of its type and well-formed; DreamfileError otherwise."""
    if missing := sorted(_FIELDS.keys() - header.keys()):
        raise DreamfileError(f"header is missing field(s): {', '.join(missing)}")
    if unknown := sorted(header.keys() - _FIELDS.keys()):
        raise DreamfileError(f"header has unknown field(s): {', '.join(unknown)}")
    for field, kind in _FIELDS.items():
        value = header[field]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise DreamfileError(f"header field {field!r} must be {kind.__name__}, got {type(value).__name__}")
    name = header["name"]
    if not name or name in (".", "..") or any(c in "/\\" or ord(c) < 0x20 for c in name):
        raise DreamfileError(f"header name {name!r} must be a plain file name")
    if "/" not in header["media_type"]:
        raise DreamfileError(f"header media_type {header['media_type']!r} is not a type/subtype")
    if header["size"] < 0 or header["payload_size"] < 0:
        raise DreamfileError("header size and payload_size must be >= 0")
    if not _HEX_DIGEST.fullmatch(header["blake3"]):
        raise DreamfileError("header blake3 must be 64 lowercase hex digits")
    try:
        created = datetime.fromisoformat(header["created"])
    except ValueError:
        created = None
    if created is None or created.utcoffset() is None or created.utcoffset().total_seconds() != 0:
        raise DreamfileError(f"header created {header['created']!r} is not an ISO 8601 UTC timestamp")
    return header  # type: ignore[return-value]


def pack(
    content: bytes,
    *,
    name: str,
    media_type: str,
    compression: Compression = "none",
    created: datetime | None = None,
) -> bytes:
    """Return ``content`` as a .dreamfile.

    ``created`` must be timezone-aware (default: now); it is stored in UTC to the second. Raises ValueError for
    an unknown compression or a naive ``created``, and DreamfileError for a header :func:`unpack` would refuse.
    """
    if compression not in _COMPRESSIONS:
        raise ValueError(f"compression must be 'none' or 'zstd', got {compression!r}")
    created = datetime.now(UTC) if created is None else created
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    payload = zstandard.ZstdCompressor().compress(content) if compression == "zstd" else content
    header = _check_header(
        {
            "name": name,
            "media_type": media_type,
            "size": len(content),
            "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "blake3": blake3.blake3(content).hexdigest(),
            "payload_size": len(payload),
        }
    )
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    body = _PREFIX.pack(MAGIC, VERSION, _COMPRESSIONS[compression], len(header_bytes)) + header_bytes + payload
    return body + blake3.blake3(body).digest()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise DreamfileError(f"header repeats field(s): {', '.join(duplicates)}")
    return dict(pairs)


def _no_constant(token: str) -> None:
    raise DreamfileError(f"header contains the non-JSON number {token}")


def unpack(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> tuple[DreamfileHeader, bytes]:
    """Return the header and the content of a .dreamfile after verifying every byte of it.

    Checks, in order: fixed prefix (magic, version, flags), header length and JSON, payload and digest lengths
    (truncation, trailing bytes), the file digest, then decompression, content size and content digest. A
    content larger than ``max_size`` is refused before it is inflated. Raises DreamfileError naming the check.
    """
    if len(data) < _PREFIX.size:
        raise DreamfileError(f"truncated: {len(data)} bytes is shorter than the {_PREFIX.size}-byte fixed header")
    magic, version, flags, header_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise DreamfileError(f"not a .dreamfile: magic is {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise DreamfileError(f"unsupported .dreamfile version {version}; this reader knows version {VERSION}")
    if flags & ~_COMPRESSION_MASK:
        raise DreamfileError(f"unknown flag bits 0x{flags & ~_COMPRESSION_MASK:02x} set")
    compression = flags & _COMPRESSION_MASK
    if compression not in _COMPRESSIONS.values():
        raise DreamfileError(f"unknown compression {compression}")
    if header_len > MAX_HEADER_SIZE:
        raise DreamfileError(f"header length {header_len} exceeds the {MAX_HEADER_SIZE}-byte limit")
    payload_start = _PREFIX.size + header_len
    if len(data) < payload_start:
        raise DreamfileError(f"truncated header: {len(data) - _PREFIX.size} of {header_len} bytes present")
    try:
        raw = json.loads(
            data[_PREFIX.size : payload_start].decode(),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DreamfileError(f"header is not UTF-8 JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise DreamfileError(f"header must be a JSON object, got {type(raw).__name__}")
    header = _check_header(raw)

    payload_end = payload_start + header["payload_size"]
    if len(data) < payload_end:
        raise DreamfileError(f"truncated payload: {len(data) - payload_start} of {header['payload_size']} bytes")
    if len(data) < payload_end + DIGEST_SIZE:
        raise DreamfileError(f"truncated digest: {len(data) - payload_end} of {DIGEST_SIZE} bytes")
    if len(data) > payload_end + DIGEST_SIZE:
        raise DreamfileError(f"{len(data) - payload_end - DIGEST_SIZE} trailing bytes after the file digest")
    if blake3.blake3(data[:payload_end]).digest() != data[payload_end:]:
        raise DreamfileError("file digest mismatch: the file was altered or corrupted")

    payload = data[payload_start:payload_end]
    if header["size"] > max_size:
        raise DreamfileError(f"content size {header['size']} exceeds the {max_size}-byte limit")
    content = payload if compression == 0 else _inflate(payload, header["size"])
    if len(content) != header["size"]:
        raise DreamfileError(f"size mismatch: header says {header['size']} bytes, content is {len(content)}")
    if blake3.blake3(content).hexdigest() != header["blake3"]:
        raise DreamfileError("content digest mismatch: the content is not the one the header addresses")
    return header, content


def _inflate(payload: bytes, size: int) -> bytes:
    """Decompress one zstd frame, never producing more than ``size + 1`` bytes."""
    try:
        declared = zstandard.frame_content_size(payload)
        if declared not in (-1, size):
            raise DreamfileError(f"size mismatch: header says {size} bytes, the zstd frame declares {declared}")
        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=size + 1, allow_extra_data=False)
    except zstandard.ZstdError as exc:
        raise DreamfileError(f"zstd payload does not decompress: {exc}") from None
