"""The ``.qdlt`` format: a delta that rebuilds a target file from a base file, named by the base's BLAKE3 digest.

Pure module: imports nothing from Django. A .qdlt is the shared envelope (:mod:`mesh.sync.envelope`) with magic
``QDLT``, version 1, the header ``{"base_blake3", "base_size", "blake3", "level", "name", "records", "size"}``
(the base's digest and size, the target's digest, size and name, the zstd level, the record count) and a payload
of records, all integers big-endian::

    b"C"  u64 base_offset  u64 length                      copy bytes of the base
    b"D"  u64 window_offset  u32 window_length  u32 length  u32 packed_length  packed
                                                             new bytes: one zstd frame of ``length`` bytes,
                                                             compressed with base[window] as raw dictionary

Both files are cut into content-defined chunks (:mod:`mesh.sync.chunks`); a target chunk the base also has
becomes a copy (adjacent copies merge), the others are grouped (at most 1 MiB) and compressed against the base
region at the same distance from the last matching chunk (64 KiB either side), so a small edit inside a chunk
costs about its own size, not the chunk's. Applying checks the base's digest before anything else: a delta
applied to the wrong base is refused.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from mesh.sync.chunks import chunks_of
from mesh.sync.envelope import (
    EnvelopeWriter,
    FormatError,
    HashingSink,
    Progress,
    atomic_file,
    check_digest,
    check_name,
    hash_view,
    mapped,
    read_envelope,
    zstd_frame_size,
)

MAGIC = b"QDLT"
VERSION = 1
SUFFIX = ".qdlt"
DEFAULT_LEVEL = 3
GROUP_MAX = 1 << 20
MARGIN = 64 * 1024
WINDOW_LOG = 22  # covers the largest window (1 MiB + 128 KiB) plus a group (1 MiB)
FIELDS: dict[str, type] = {
    "base_blake3": str,
    "base_size": int,
    "blake3": str,
    "level": int,
    "name": str,
    "records": int,
    "size": int,
}
_COPY = struct.Struct(">cQQ")
_DATA = struct.Struct(">cQIII")


def _raw_dict(window: memoryview) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(bytes(window), dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compress(data: memoryview, window: memoryview, level: int) -> bytes:
    params = zstandard.ZstdCompressionParameters.from_level(
        level, window_log=WINDOW_LOG, write_content_size=1, write_checksum=0, write_dict_id=0, threads=0
    )
    if len(window):
        return zstandard.ZstdCompressor(compression_params=params, dict_data=_raw_dict(window)).compress(data)
    return zstandard.ZstdCompressor(compression_params=params).compress(data)


def delta_into(base: bytes | memoryview, target: bytes | memoryview, out: BinaryIO, *, name: str,
               level: int = DEFAULT_LEVEL, progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Write the .qdlt that rebuilds ``target`` from ``base`` to the seekable ``out``; return its header."""
    check_name(name)
    if not 1 <= level <= 22:
        raise ValueError(f"zstd level must be 1-22, got {level}")
    base, target = memoryview(base), memoryview(target)
    where: dict[str, int] = {}
    for c in chunks_of(base):
        where.setdefault(c.digest, c.offset)
    records: list[bytes | tuple[int, int]] = []  # finished DATA records, or (offset, length) of an open COPY
    anchor_t = anchor_b = 0  # target and base end of the last chunk both files share

    def flush(t0: int, t1: int) -> None:
        if t1 <= t0:
            return
        pos = t0 - anchor_t + anchor_b
        w0 = min(max(pos - MARGIN, 0), len(base))
        w1 = min(max(pos + (t1 - t0) + MARGIN, w0), len(base))
        packed = _compress(target[t0:t1], base[w0:w1], level)
        records.append(_DATA.pack(b"D", w0, w1 - w0, t1 - t0, len(packed)) + packed)

    lit0 = lit1 = 0
    for c in chunks_of(target):
        b = where.get(c.digest)
        if b is None:
            if lit1 - lit0 + c.length > GROUP_MAX:
                flush(lit0, lit1)
                lit0 = c.offset
            lit1 = c.offset + c.length
        else:
            flush(lit0, lit1)
            lit0 = lit1 = c.offset + c.length
            last = records[-1] if records else None
            if isinstance(last, tuple) and last[0] + last[1] == b:
                records[-1] = (last[0], last[1] + c.length)
            else:
                records.append((b, c.length))
            anchor_t, anchor_b = c.offset + c.length, b + c.length
        if progress is not None:
            progress(c.length)
    flush(lit0, lit1)
    header = {
        "base_blake3": hash_view(base).hexdigest(),
        "base_size": len(base),
        "blake3": hash_view(target).hexdigest(),
        "level": level,
        "name": name,
        "records": len(records),
        "size": len(target),
    }
    writer = EnvelopeWriter(out, magic=MAGIC, version=VERSION, header=header)
    for record in records:
        writer.write(_COPY.pack(b"C", *record) if isinstance(record, tuple) else record)
    writer.finish()
    return header


def delta(base: bytes, target: bytes, *, name: str, level: int = DEFAULT_LEVEL) -> bytes:
    """Return the .qdlt that rebuilds ``target`` (named ``name``) from ``base``."""
    out = io.BytesIO()
    delta_into(base, target, out, name=name, level=level)
    return out.getvalue()


def delta_file(base: str | os.PathLike[str], target: str | os.PathLike[str], dst: str | os.PathLike[str], *,
               level: int = DEFAULT_LEVEL, force: bool = False, progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Write ``dst``, the .qdlt from the file ``base`` to the file ``target`` (atomically)."""
    with mapped(base) as b, mapped(target) as t, atomic_file(dst, force=force) as out:
        return delta_into(b, t, out, name=Path(target).name, level=level, progress=progress)


def _header(data: bytes | memoryview) -> tuple[dict[str, Any], memoryview]:
    envelope = read_envelope(data, magic=MAGIC, version=VERSION, kind="qdlt", fields=FIELDS)
    header = envelope.header
    check_digest(header["base_blake3"], "header base_blake3")
    check_digest(header["blake3"], "header blake3")
    check_name(header["name"])
    if not 1 <= header["level"] <= 22:
        raise FormatError(f"header level {header['level']} is not a zstd level (1-22)")
    return header, envelope.payload


def _replay(header: dict[str, Any], payload: memoryview, base: memoryview | None, sink: HashingSink | None) -> None:
    """Walk the records, checking each against the header; with ``base`` and ``sink``, rebuild the target."""
    base_size, size = header["base_size"], header["size"]
    pos = count = produced = 0
    while pos < len(payload):
        count += 1
        tag = bytes(payload[pos : pos + 1])
        if tag == b"C":
            if pos + _COPY.size > len(payload):
                raise FormatError(f"record {count} (copy) is truncated")
            _, offset, length = _COPY.unpack_from(payload, pos)
            pos += _COPY.size
            if length == 0 or offset + length > base_size:
                raise FormatError(
                    f"record {count} copies {length} bytes at {offset}, outside the {base_size}-byte base"
                )
            if sink is not None and base is not None:
                sink.write(base[offset : offset + length])
        elif tag == b"D":
            if pos + _DATA.size > len(payload):
                raise FormatError(f"record {count} (data) is truncated")
            _, w0, wlen, length, packed_len = _DATA.unpack_from(payload, pos)
            pos += _DATA.size
            if length == 0 or w0 + wlen > base_size:
                raise FormatError(f"record {count} has an empty body or a window outside the {base_size}-byte base")
            if length > GROUP_MAX or wlen > GROUP_MAX + 2 * MARGIN:
                raise FormatError(f"record {count} holds {length} bytes with a {wlen}-byte window; a writer makes "
                                  f"at most {GROUP_MAX} and {GROUP_MAX + 2 * MARGIN}")  # fmt: skip
            if pos + packed_len > len(payload):
                raise FormatError(f"record {count} (data) is truncated: {len(payload) - pos} of {packed_len} bytes")
            packed = payload[pos : pos + packed_len]
            pos += packed_len
            if zstd_frame_size(packed) != packed_len or zstandard.frame_content_size(packed) != length:
                raise FormatError(f"record {count} is not one zstd frame of {length} bytes")
            if sink is not None and base is not None:
                try:
                    params: dict[str, Any] = {"max_window_size": 1 << WINDOW_LOG}
                    if wlen:
                        params["dict_data"] = _raw_dict(base[w0 : w0 + wlen])
                    plain = zstandard.ZstdDecompressor(**params).decompress(packed, max_output_size=length)
                except zstandard.ZstdError as exc:
                    raise FormatError(f"record {count} does not decompress: {exc}") from None
                if len(plain) != length:
                    raise FormatError(f"record {count} inflates to {len(plain)} bytes, not {length}")
                sink.write(plain)
        else:
            raise FormatError(f"record {count} has the unknown tag {tag!r}")
        produced += length
        if produced > size:
            raise FormatError(f"records produce more than the declared {size} bytes")
    if count != header["records"]:
        raise FormatError(f"header says {header['records']} records, the payload holds {count}")
    if produced != size:
        raise FormatError(f"size mismatch: header says {size} bytes, the records produce {produced}")


def apply_into(data: bytes | memoryview, base: bytes | memoryview, out: BinaryIO | None, *,
               progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Verify the .qdlt ``data``, check ``base`` is its base, and stream the target to ``out`` (None: verify)."""
    header, payload = _header(data)
    base = memoryview(base)
    if len(base) != header["base_size"] or hash_view(base).hexdigest() != header["base_blake3"]:
        raise FormatError(
            f"wrong base: this delta applies to the {header['base_size']}-byte file with BLAKE3 "
            f"{header['base_blake3'][:16]}…, the base given ({len(base)} bytes) is "
            f"{hash_view(base).hexdigest()[:16]}…"
        )
    sink = HashingSink(out, progress)
    _replay(header, payload, base, sink)
    if sink.hexdigest() != header["blake3"]:
        raise FormatError("content digest mismatch: the rebuilt file is not the one the header names")
    return header


def apply(data: bytes, base: bytes) -> tuple[dict[str, Any], bytes]:
    """Verify the .qdlt ``data`` against ``base`` and return its header and the rebuilt target."""
    out = io.BytesIO()
    header = apply_into(data, base, out)
    return header, out.getvalue()


def check(data: bytes | memoryview) -> dict[str, Any]:
    """Verify a .qdlt without its base: envelope, digests and every record's structure and bounds."""
    header, payload = _header(data)
    _replay(header, payload, None, None)
    return header


def apply_file(src: str | os.PathLike[str], base: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None,
               *, force: bool = False, progress: Progress = None) -> tuple[dict[str, Any], Path]:  # fmt: skip
    """Rebuild the target of ``src`` from ``base`` into ``dst`` (default: the header's name beside ``src``)."""
    with mapped(src) as view, mapped(base) as b:
        header = _header(view)[0]
        target = Path(dst) if dst is not None else Path(src).parent / header["name"]
        if target.resolve() == Path(base).resolve():
            raise FormatError(f"the output {target} is the base itself; choose another with --output")
        with atomic_file(target, force=force) as out:
            apply_into(view, b, out, progress=progress)
    return header, target


def verify_file(src: str | os.PathLike[str], base: str | os.PathLike[str] | None = None, *,
                progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Verify ``src`` without writing: fully with ``base``, structurally (no target digest) without it."""
    with mapped(src) as view:
        if base is None:
            return check(view)
        with mapped(base) as b:
            return apply_into(view, b, None, progress=progress)
