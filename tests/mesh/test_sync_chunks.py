"""Content-defined chunks: stable boundaries under edits, BLAKE3 addresses, a store that verifies."""

import os
import random

import pytest

from mesh.sync.chunks import AVG_SIZE, MAX_SIZE, MIN_SIZE, ChunkCorrupt, ChunkStore, chunks_of, chunks_of_file


def _data(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def test_chunks_cover_the_data_in_order_within_the_size_bounds():
    data = _data(2 * 1024 * 1024)
    chunks = chunks_of(data)
    assert sum(c.length for c in chunks) == len(data)
    assert [c.offset for c in chunks] == [sum(c.length for c in chunks[:i]) for i in range(len(chunks))]
    assert all(MIN_SIZE <= c.length <= MAX_SIZE for c in chunks[:-1])
    assert AVG_SIZE / 2 < len(data) / len(chunks) < AVG_SIZE * 2
    assert chunks_of(b"") == []


def test_an_insertion_changes_only_the_chunks_near_it():
    data = _data(4 * 1024 * 1024)
    edited = data[:1_000_000] + b"an inserted sentence" + data[1_000_000:]
    before = {c.digest for c in chunks_of(data)}
    after = chunks_of(edited)
    new = [c for c in after if c.digest not in before]
    assert sum(c.length for c in new) < 3 * MAX_SIZE
    assert len(new) <= 3


def test_file_chunking_matches_bytes(tmp_path):
    data = _data(300_000)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert chunks_of_file(path) == chunks_of(data)
    (tmp_path / "empty").write_bytes(b"")
    assert chunks_of_file(tmp_path / "empty") == []


def test_store_keeps_each_chunk_once_and_refuses_wrong_bytes(tmp_path):
    store = ChunkStore(tmp_path)
    digest = store.put(b"hello")
    assert store.put(b"hello") == digest and store.has(digest) and store.get(digest) == b"hello"
    assert store.missing([digest, "0" * 64, "0" * 64]) == ["0" * 64]
    with pytest.raises(ChunkCorrupt, match="refused"):
        store.put(b"hellp", digest=digest)
    with pytest.raises(ValueError, match="not a BLAKE3 digest"):
        store.has("../../etc/passwd")
    store.path(digest).write_bytes(b"tampered")
    with pytest.raises(ChunkCorrupt, match="no longer matches"):
        store.get(digest)
    assert not list(tmp_path.rglob(".tmp-*"))
    assert os.listdir(tmp_path)


def test_a_present_chunk_is_freshened_when_put_again_or_found_by_missing(tmp_path):
    store = ChunkStore(tmp_path)
    digest = store.put(b"shared by an old and a new version")
    old = store.path(digest).stat().st_mtime - 7200
    os.utime(store.path(digest), (old, old))
    assert store.missing([digest]) == [] and store.path(digest).stat().st_mtime > old + 3600
    os.utime(store.path(digest), (old, old))
    assert store.put(b"shared by an old and a new version") == digest
    assert store.path(digest).stat().st_mtime > old + 3600
    assert store.freshen("0" * 64) is False
