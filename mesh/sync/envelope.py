"""The envelope the sync formats share (.qport, .qdlt, .fractal): magic, lengths, digests, a canonical header.

Pure module: imports nothing from Django. Layout, all integers big-endian::

    4 bytes    magic ("QPRT", "QDLT", "FRCL")
    u8         version
    u8         flags (must be 0 in version 1)
    u32        header length H
    u64        payload length P
    32 bytes   BLAKE3 of the P payload bytes
    H bytes    header: UTF-8 JSON object, keys sorted, no spaces (canonical, so the same input gives the same bytes)
    P bytes    payload (format-specific)
    32 bytes   seal: BLAKE3 of the fixed prefix and the header (the first 50 + H bytes)

The payload digest sits in the prefix, so a writer streams the payload and patches the prefix afterwards; the
seal covers the prefix (payload length and digest included) and the header, so every byte of the file is covered
by a digest. A reader checks, in order: prefix, header, lengths (truncation, trailing bytes), seal, payload
digest; each failure raises :class:`FormatError` with its own message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import blake3
import zstandard

from mesh.sync.durable import fsync_path, replacing

PREFIX = struct.Struct(">4sBBIQ32s")
SEAL_SIZE = 32
MAX_HEADER_SIZE = 1 << 20
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
STEP = 1 << 20  # bytes per write or progress tick when streaming

type Progress = Callable[[int], None] | None


class FormatError(ValueError):
    """A packed file is malformed, altered, or not what its header claims; the message names the failed check."""


def hash_view(data: bytes | memoryview) -> blake3.blake3:
    """BLAKE3 of ``data``; large inputs use all cores (the digest does not depend on the thread count)."""
    threads = blake3.blake3.AUTO if len(data) >= 4 * STEP else 1
    return blake3.blake3(data, max_threads=threads)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise FormatError(f"JSON repeats field(s): {', '.join(duplicates)}")
    return dict(pairs)


def _no_constant(token: str) -> None:
    raise FormatError(f"JSON contains the non-JSON number {token}")


def parse_json(raw: bytes | memoryview, what: str) -> Any:
    """Parse canonical JSON strictly: UTF-8, no duplicate keys, no NaN/Infinity, and exactly canonical bytes."""
    try:
        value = json.loads(bytes(raw).decode(), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what} is not UTF-8 JSON: {exc}") from None
    if canonical_json(value) != bytes(raw):
        raise FormatError(f"{what} is not in canonical form (sorted keys, no spaces)")
    return value


def check_fields(value: Any, fields: dict[str, type], what: str) -> dict[str, Any]:
    """Return ``value`` if it is an object with exactly ``fields``, each of its type; FormatError otherwise."""
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object, got {type(value).__name__}")
    if missing := sorted(fields.keys() - value.keys()):
        raise FormatError(f"{what} is missing field(s): {', '.join(missing)}")
    if unknown := sorted(value.keys() - fields.keys()):
        raise FormatError(f"{what} has unknown field(s): {', '.join(unknown)}")
    for field, kind in fields.items():
        item = value[field]
        if not isinstance(item, kind) or (isinstance(item, bool) and kind is not bool):
            raise FormatError(f"{what} field {field!r} must be {kind.__name__}, got {type(item).__name__}")
        if kind is int and item < 0:
            raise FormatError(f"{what} field {field!r} must be >= 0, got {item}")
    return value


def check_digest(value: str, what: str) -> None:
    if not HEX_DIGEST.fullmatch(value):
        raise FormatError(f"{what} must be 64 lower-case hex digits")


def check_name(name: str, what: str = "header name") -> None:
    if not name or name in (".", "..") or any(c in "/\\" or ord(c) < 0x20 for c in name) or len(name) > 255:
        raise FormatError(f"{what} {name!r} must be a plain file name (no path separators)")


@dataclass(frozen=True)
class Envelope:
    """A verified envelope: its header and a view of its payload (whose digest already matched)."""

    version: int
    header: dict[str, Any]
    payload: memoryview


class EnvelopeWriter:
    """Write an envelope to a seekable binary file: prefix and header now, the payload streamed through
    :meth:`write`, then :meth:`finish` appends the seal and patches the payload length and digest in the prefix."""

    def __init__(self, out: BinaryIO, *, magic: bytes, version: int, header: dict[str, Any]):
        self.out, self.magic, self.version = out, magic, version
        self.header_bytes = canonical_json(header)
        if len(self.header_bytes) > MAX_HEADER_SIZE:
            raise FormatError(f"header of {len(self.header_bytes)} bytes exceeds the {MAX_HEADER_SIZE}-byte limit")
        self.start = out.tell()
        out.write(PREFIX.pack(magic, version, 0, len(self.header_bytes), 0, bytes(32)))
        out.write(self.header_bytes)
        self.hasher = blake3.blake3()
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.out.write(data)
        self.hasher.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:  # the zstd stream writer calls it; the file is flushed once, at the end
        pass

    def set_digest(self, field: str, hexdigest: str) -> None:
        """Fill in the header's digest ``field``, written as 64 zeros while the payload streamed (a digest has a
        fixed length, so the header keeps its length and the payload its offset)."""
        placeholder = f'"{field}":"{"0" * 64}"'.encode()
        check_digest(hexdigest, field)
        if self.header_bytes.count(placeholder) != 1:
            raise ValueError(f"the header has no placeholder for {field!r}")
        self.header_bytes = self.header_bytes.replace(placeholder, f'"{field}":"{hexdigest}"'.encode())

    def finish(self) -> None:
        prefix = PREFIX.pack(self.magic, self.version, 0, len(self.header_bytes), self.size, self.hasher.digest())
        self.out.write(blake3.blake3(prefix + self.header_bytes).digest())
        end = self.out.tell()
        self.out.seek(self.start)
        self.out.write(prefix + self.header_bytes)
        self.out.seek(end)


def read_envelope(
    data: bytes | memoryview, *, magic: bytes, version: int, kind: str, fields: dict[str, type]
) -> Envelope:
    """Verify the envelope of ``data`` (a .``kind`` file) and return its header and payload view.

    The header must hold exactly ``fields``; the payload is returned only after the seal and its digest matched.
    """
    view = memoryview(data)
    if len(view) < PREFIX.size:
        raise FormatError(f"truncated: {len(view)} bytes is shorter than the {PREFIX.size}-byte fixed prefix")
    got_magic, got_version, flags, header_len, payload_len, payload_digest = PREFIX.unpack_from(view)
    if got_magic != magic:
        raise FormatError(f"not a .{kind} file: magic is {bytes(got_magic)!r}, expected {magic!r}")
    if got_version != version:
        raise FormatError(f"unsupported .{kind} version {got_version}; this reader knows version {version}")
    if flags:
        raise FormatError(f"unknown flag bits 0x{flags:02x} set (version {version} defines none)")
    if header_len > MAX_HEADER_SIZE:
        raise FormatError(f"header length {header_len} exceeds the {MAX_HEADER_SIZE}-byte limit")
    payload_start = PREFIX.size + header_len
    if len(view) < payload_start:
        raise FormatError(f"truncated header: {len(view) - PREFIX.size} of {header_len} bytes present")
    header = check_fields(parse_json(view[PREFIX.size : payload_start], "header"), fields, "header")
    payload_end = payload_start + payload_len
    if len(view) < payload_end:
        raise FormatError(f"truncated payload: {len(view) - payload_start} of {payload_len} bytes present")
    if len(view) < payload_end + SEAL_SIZE:
        raise FormatError(f"truncated seal: {len(view) - payload_end} of {SEAL_SIZE} bytes present")
    if len(view) > payload_end + SEAL_SIZE:
        raise FormatError(f"{len(view) - payload_end - SEAL_SIZE} trailing bytes after the seal")
    if blake3.blake3(view[:payload_start]).digest() != view[payload_end:]:
        raise FormatError("seal mismatch: the prefix or header was altered or corrupted")
    payload = view[payload_start:payload_end]
    if hash_view(payload).digest() != payload_digest:
        raise FormatError("payload digest mismatch: the payload was altered or corrupted")
    return Envelope(version=got_version, header=header, payload=payload)


@contextmanager
def mapped(path: str | os.PathLike[str]) -> Iterator[memoryview]:
    """A read-only view of the file at ``path`` (memory-mapped; no copy), released on exit."""
    import mmap

    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            yield memoryview(b"")
            return
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(m)
        try:
            yield view
        finally:
            try:
                view.release()
                m.close()
            except BufferError:  # slices still referenced (by an exception's traceback): unmapped when they go
                pass


class OutputExists(FileExistsError):
    """The destination exists and overwriting was not asked for."""


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, force: bool = False) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: a temp file beside it, fsync, rename. The file appears whole or not at all.

    Refuses an existing ``path`` unless ``force``; on any error the temp file is removed and ``path`` untouched.
    """
    target = Path(path)
    if (target.exists() or target.is_symlink()) and not force:
        raise OutputExists(f"{target} exists; pass --force to overwrite it")

    def still_free() -> None:
        if target.exists() and not force:  # appeared while we were writing
            raise OutputExists(f"{target} exists; pass --force to overwrite it")

    with replacing(target, prefix=f".{target.name}.", before_replace=still_free) as f:
        yield f
    fsync_path(target.parent)


@contextmanager
def atomic_dir(path: str | os.PathLike[str], *, force: bool = False) -> Iterator[Path]:
    """Build a folder at ``path`` atomically: a temp folder beside it, filled by the caller, then renamed.

    An existing ``path`` is refused unless ``force``, in which case it is replaced only after the new folder is
    complete. On any error the temp folder is removed and ``path`` untouched.
    """
    target = Path(path)
    if (target.exists() or target.is_symlink()) and not force:
        raise OutputExists(f"{target} exists; pass --force to overwrite it")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        fsync_path(tmp)
        if target.exists() or target.is_symlink():
            if not force:
                raise OutputExists(f"{target} exists; pass --force to overwrite it")
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_path(target.parent)


class HashingSink:
    """A write target that hashes and counts what it is given and passes it on (or drops it, for verify).

    With ``background`` the hashing runs on another thread, in order (BLAKE3 releases the GIL), while the caller
    decompresses the next step; only for ``bytes`` chunks, which cannot change under it.
    """

    def __init__(self, out: BinaryIO | None = None, progress: Progress = None, *, background: bool = False):
        self.out, self.progress = out, progress
        self.hasher = blake3.blake3()
        self.size = 0
        self.pool = ThreadPoolExecutor(max_workers=1) if background else None

    def write(self, data: bytes | memoryview) -> int:
        if self.out is not None:
            self.out.write(data)
        if self.pool is not None and isinstance(data, bytes):
            self.pool.submit(self.hasher.update, data)
        else:
            self.hasher.update(data)
        self.size += len(data)
        if self.progress is not None:
            self.progress(len(data))
        return len(data)

    def flush(self) -> None:
        pass

    def hexdigest(self) -> str:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        return self.hasher.hexdigest()


def zstd_frame_size(payload: memoryview) -> int:
    """The length of the zstd frame at the start of ``payload``, found by walking its block headers (RFC 8878)."""
    try:
        params = zstandard.get_frame_parameters(payload)
        pos = zstandard.frame_header_size(payload)
    except zstandard.ZstdError as exc:
        raise FormatError(f"payload is not a zstd frame: {exc}") from None
    while True:
        if pos + 3 > len(payload):
            raise FormatError("zstd frame is truncated inside a block header")
        block = int.from_bytes(payload[pos : pos + 3], "little")
        pos += 3
        kind, size = (block >> 1) & 3, block >> 3
        if kind == 3:
            raise FormatError("zstd frame has a block of the reserved type")
        pos += 1 if kind == 1 else size  # an RLE block stores one byte
        if block & 1:
            break
    return pos + (4 if params.has_checksum else 0)


def check_one_frame(payload: memoryview, size: int) -> None:
    """Refuse a payload that is not exactly one zstd frame declaring ``size`` content bytes."""
    try:
        declared = zstandard.frame_content_size(payload)
    except zstandard.ZstdError as exc:
        raise FormatError(f"payload is not a zstd frame: {exc}") from None
    if declared != size:
        raise FormatError(f"size mismatch: header says {size} bytes, the zstd frame declares {declared}")
    frame = zstd_frame_size(payload)
    if frame != len(payload):
        what = f"{len(payload) - frame} bytes after" if frame < len(payload) else "bytes missing from"
        raise FormatError(f"payload has {what} its zstd frame")


def inflate(payload: memoryview, size: int, sink: HashingSink, *, max_window_log: int = 27) -> None:
    """Stream one verified zstd frame into ``sink``, refusing more than ``size`` bytes of output."""
    try:
        decompressor = zstandard.ZstdDecompressor(max_window_size=1 << max_window_log)
        reader = decompressor.stream_reader(payload, read_across_frames=False, closefd=False)
        while chunk := reader.read(STEP):
            if sink.size + len(chunk) > size:
                raise FormatError(f"payload inflates past the declared {size} bytes")
            sink.write(chunk)
    except zstandard.ZstdError as exc:
        raise FormatError(f"zstd payload does not decompress: {exc}") from None
    if sink.size != size:
        raise FormatError(f"size mismatch: header says {size} bytes, the payload holds {sink.size}")
