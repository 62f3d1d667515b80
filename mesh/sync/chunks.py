"""Content-defined chunks (FastCDC), each addressed by its BLAKE3 digest, and a store that keeps each chunk once.

A file's manifest is its chunk list: an edit moves only the chunk boundaries near it, so a changed file shares
most chunks with its previous version and a receiver fetches only the chunks it lacks. Chunking is the
``fastcdc`` package (the FastCDC paper's normalized chunking, Cython); this module fixes the sizes and the
addressing. No Django import: the ``dream`` command and the formats use it directly.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import blake3
import fastcdc

from mesh.sync.durable import write_atomic

MIN_SIZE = 16 * 1024
AVG_SIZE = 64 * 1024
MAX_SIZE = 256 * 1024

DIGEST_HEX = 64  # BLAKE3-256, lower-case hex
TMP_PREFIX = ".tmp-"  # a chunk being written; garbage collection (mesh.sync.gc) removes old ones left by a crash


@dataclass(frozen=True, slots=True)
class Chunk:
    """``length`` bytes at ``offset`` of their file, whose BLAKE3 digest is ``digest``."""

    offset: int
    length: int
    digest: str


def digest_of(data: bytes | memoryview) -> str:
    return blake3.blake3(data).hexdigest()


def chunks_of(data: bytes | memoryview) -> list[Chunk]:
    """Cut ``data`` into content-defined chunks and address each by BLAKE3. Empty data has no chunks."""
    if not len(data):
        return []
    view = memoryview(data)
    cuts = fastcdc.fastcdc(view, min_size=MIN_SIZE, avg_size=AVG_SIZE, max_size=MAX_SIZE, fat=False, hf=None)
    return [Chunk(c.offset, c.length, digest_of(view[c.offset : c.offset + c.length])) for c in cuts]


def chunks_of_file(path: str | os.PathLike[str]) -> list[Chunk]:
    """The chunks of the file at ``path``, read through a read-only memory map (no copy of the whole file)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                return chunks_of(view)
            finally:
                view.release()


def chunk_bytes(data: bytes | memoryview, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, memoryview]]:
    """Each chunk with its bytes, sliced from ``data`` without copying."""
    view = memoryview(data)
    for c in chunks:
        yield c, view[c.offset : c.offset + c.length]


class ChunkCorrupt(ValueError):
    """Bytes offered or read for a chunk do not have the chunk's digest."""


class ChunkStore:
    """Chunks kept once each under ``root/ab/cd/<digest>``: written atomically, verified on read.

    A chunk's file appears only after its bytes are on disk (temp file, fsync, rename), so a crash leaves either
    the whole chunk or nothing, and ``has`` never answers yes for a half-written one.

    A chunk's mtime is when something last stored or relied on it: ``put`` and ``missing`` reset it to now for a
    chunk already present ("freshening", as git does for loose objects), so garbage collection, which spares every
    chunk younger than its grace period, never removes a chunk a transfer has just found and is about to use.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if len(digest) != DIGEST_HEX or any(ch not in "0123456789abcdef" for ch in digest):
            raise ValueError(f"{digest!r} is not a BLAKE3 digest (64 lower-case hex characters).")
        return self.root / digest[:2] / digest[2:4] / digest

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def freshen(self, digest: str) -> bool:
        """Reset the chunk's mtime to now if it is present; return whether it is."""
        try:
            os.utime(self.path(digest))
        except FileNotFoundError:
            return False
        except OSError:  # a read-only store: nothing collects it either
            return self.has(digest)
        return True

    def missing(self, digests: Iterable[str]) -> list[str]:
        """The digests of ``digests`` not in the store, each once, in first-seen order.

        The caller is about to rely on the others, so each present chunk is freshened (see the class).
        """
        seen: set[str] = set()
        out = []
        for d in digests:
            if d not in seen:
                seen.add(d)
                if not self.freshen(d):
                    out.append(d)
        return out

    def put(self, data: bytes | memoryview, *, digest: str | None = None) -> str:
        """Store ``data`` (checked against ``digest`` when given) and return its digest; a no-op when present."""
        actual = digest_of(data)
        if digest is not None and digest != actual:
            raise ChunkCorrupt(f"chunk {digest[:16]}… arrived with digest {actual[:16]}…; it was refused.")
        if self.freshen(actual):
            return actual
        target = self.path(actual)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, prefix=TMP_PREFIX)
        return actual

    def get(self, digest: str) -> bytes:
        """The chunk's bytes, verified; ChunkCorrupt when the stored file no longer matches its name."""
        data = self.path(digest).read_bytes()
        if digest_of(data) != digest:
            raise ChunkCorrupt(f"stored chunk {digest[:16]}… no longer matches its digest.")
        return data
