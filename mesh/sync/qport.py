"""The ``.qport`` format: one file, zstd-compressed, with the digests of its plain and packed bytes: for sending.

Pure module: imports nothing from Django. A .qport is the shared envelope (:mod:`mesh.sync.envelope`) with magic
``QPRT``, version 1, the header ``{"blake3", "level", "name", "size"}`` (digest and size of the plain file, the
zstd level, the file's name) and one zstd frame as payload (single-threaded, content size in the frame, no
timestamps anywhere: the same file packs to the same bytes). The payload digest in the envelope is the digest of
the packed bytes. Large files stream through zstd in 1 MiB steps from a memory map; nothing holds the whole file.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import blake3
import zstandard

from mesh.sync.envelope import (
    STEP,
    EnvelopeWriter,
    FormatError,
    HashingSink,
    Progress,
    atomic_file,
    check_digest,
    check_name,
    check_one_frame,
    inflate,
    mapped,
    read_envelope,
)

MAGIC = b"QPRT"
VERSION = 1
SUFFIX = ".qport"
DEFAULT_LEVEL = 3
FIELDS: dict[str, type] = {"blake3": str, "level": int, "name": str, "size": int}


def _compressor(level: int) -> zstandard.ZstdCompressor:
    if not 1 <= level <= 22:
        raise ValueError(f"zstd level must be 1-22, got {level}")
    return zstandard.ZstdCompressor(level=level, threads=0, write_checksum=False, write_content_size=True)


def pack_into(data: bytes | memoryview, out: BinaryIO, *, name: str, level: int = DEFAULT_LEVEL,
              progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Write ``data`` as a .qport to the seekable ``out``; return its header."""
    check_name(name)
    view = memoryview(data)
    header = {"blake3": "0" * 64, "level": level, "name": name, "size": len(view)}
    compressor = _compressor(level)
    writer = EnvelopeWriter(out, magic=MAGIC, version=VERSION, header=header)
    # The plain digest is computed on another core while zstd compresses (both release the GIL) and filled in
    # the header at the end; the bytes are the same as hashing first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        plain = pool.submit(lambda: blake3.blake3(view).hexdigest())
        with compressor.stream_writer(writer, size=len(view), closefd=False, write_size=STEP) as z:
            for start in range(0, len(view), STEP):
                z.write(view[start : start + STEP])
                if progress is not None:
                    progress(min(STEP, len(view) - start))
        header["blake3"] = plain.result()
    writer.set_digest("blake3", header["blake3"])
    writer.finish()
    return header


def pack(data: bytes, *, name: str, level: int = DEFAULT_LEVEL) -> bytes:
    """Return ``data`` packed as a .qport named ``name``."""
    out = io.BytesIO()
    pack_into(data, out, name=name, level=level)
    return out.getvalue()


def pack_file(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, level: int = DEFAULT_LEVEL,
              force: bool = False, progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Pack the file ``src`` into ``dst`` (written atomically; an existing ``dst`` only with ``force``)."""
    with mapped(src) as view, atomic_file(dst, force=force) as out:
        return pack_into(view, out, name=Path(src).name, level=level, progress=progress)


def _header(data: bytes | memoryview) -> tuple[dict[str, Any], memoryview]:
    envelope = read_envelope(data, magic=MAGIC, version=VERSION, kind="qport", fields=FIELDS)
    header = envelope.header
    check_digest(header["blake3"], "header blake3")
    check_name(header["name"])
    if not 1 <= header["level"] <= 22:
        raise FormatError(f"header level {header['level']} is not a zstd level (1-22)")
    return header, envelope.payload


def unpack_into(data: bytes | memoryview, out: BinaryIO | None, *, progress: Progress = None) -> dict[str, Any]:
    """Verify the .qport ``data`` and stream its content to ``out`` (None: verify only); return its header.

    Everything written is only trustworthy once this returns: the content digest is checked at the end, so a
    caller writes to a temp file and keeps it only then (as :func:`open_file` does).
    """
    header, payload = _header(data)
    check_one_frame(payload, header["size"])
    sink = HashingSink(out, progress, background=len(payload) >= STEP)
    inflate(payload, header["size"], sink)
    if sink.hexdigest() != header["blake3"]:
        raise FormatError("content digest mismatch: the content is not the one the header names")
    return header


def unpack(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Verify the .qport ``data`` and return its header and content."""
    out = io.BytesIO()
    header = unpack_into(data, out)
    return header, out.getvalue()


def open_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None, *, force: bool = False,
              progress: Progress = None) -> tuple[dict[str, Any], Path]:  # fmt: skip
    """Verify ``src`` and write its content to ``dst`` (default: the header's name beside ``src``)."""
    with mapped(src) as view:
        header = _header(view)[0]
        target = Path(dst) if dst is not None else Path(src).parent / header["name"]
        with atomic_file(target, force=force) as out:
            unpack_into(view, out, progress=progress)
    return header, target


def verify_file(src: str | os.PathLike[str], *, progress: Progress = None) -> dict[str, Any]:
    """Verify ``src`` completely (every digest, the content inflated and hashed) without writing anything."""
    with mapped(src) as view:
        return unpack_into(view, None, progress=progress)
