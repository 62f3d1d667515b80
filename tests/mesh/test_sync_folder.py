"""Portal folder logic without Django: version vectors, scans, conflicts, tombstones, traversal, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mesh.sync.chunks import ChunkStore
from mesh.sync.folder import (
    FileRecord,
    Ignore,
    Index,
    SyncError,
    check_path,
    conflict_name,
    decide,
    manifest_digest,
    materialize,
    resolve_inside,
    scan,
    vv_bump,
    vv_compare,
    vv_merge,
)


@pytest.fixture
def node(tmp_path: Path):
    root = tmp_path / "folder"
    root.mkdir()
    return root, Index(tmp_path / "state" / "index.json"), ChunkStore(tmp_path / "chunks")


def test_version_vectors_order_and_merge() -> None:
    a = vv_bump({}, "a")
    b = vv_bump(a, "b")
    assert vv_compare(a, a) == "equal"
    assert vv_compare(b, a) == "greater" and vv_compare(a, b) == "less"
    c = vv_bump(a, "c")
    assert vv_compare(b, c) == "concurrent"
    assert vv_merge(b, c) == {"a": 1, "b": 1, "c": 1}


def test_scan_records_new_changed_and_deleted_files(node) -> None:
    root, index, store = node
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "sub" / "deep" / "x.txt").write_bytes(b"hello")
    (root / "a.bin").write_bytes(os.urandom(200_000))
    first = scan(root, index, node="n1", store=store)
    assert sorted(r.path for r in first) == ["a.bin", "sub/deep/x.txt"]
    assert all(store.has(d) for r in first for d, _n in r.chunks)
    assert scan(root, index, node="n1", store=store) == []  # nothing changed: a stat scan only
    (root / "sub" / "deep" / "x.txt").write_bytes(b"hello, world")
    (root / "a.bin").unlink()
    second = {r.path: r for r in scan(root, index, node="n1", store=store)}
    assert second["sub/deep/x.txt"].version == {"n1": 2} and second["sub/deep/x.txt"].size == 12
    assert second["a.bin"].deleted and second["a.bin"].version == {"n1": 2}  # a tombstone, not a removal


def test_ignore_patterns_and_state_are_skipped(node) -> None:
    root, index, store = node
    (root / ".dreamignore").write_text("*.tmp\nbuild/\n# comment\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"x")
    (root / "keep.txt").write_bytes(b"k")
    (root / "junk.tmp").write_bytes(b"j")
    (root / ".dreamsync-tmp-abc").write_bytes(b"half")
    paths = sorted(r.path for r in scan(root, index, node="n1", store=store))
    assert paths == [".dreamignore", "keep.txt"]
    assert Ignore(["docs/*.md"]).ignored("docs/a.md") and not Ignore(["docs/*.md"]).ignored("a.md")


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a", "C:/x", "a\\..\\b", "", ".dreamsync/x", "a\x00"]
)
def test_traversal_paths_are_refused(bad: str) -> None:
    with pytest.raises(SyncError) as exc:
        check_path(bad)
    assert exc.value.code == "path_traversal"


def test_a_symlink_leading_outside_is_refused(node, tmp_path: Path) -> None:
    root, _index, _store = node
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(SyncError) as exc:
        resolve_inside(root, "link/evil.txt")
    assert exc.value.code == "path_traversal"
    (root / "file-link").symlink_to(outside / "x")
    with pytest.raises(SyncError):
        resolve_inside(root, "file-link")


def test_a_malformed_or_traversing_record_is_refused() -> None:
    good = {"path": "a.txt", "version": {"n": 1}, "deleted": False, "size": 0, "mtime_ns": 1, "chunks": []}
    assert FileRecord.from_wire(good).path == "a.txt"
    with pytest.raises(SyncError) as exc:
        FileRecord.from_wire({**good, "path": "../a.txt"})
    assert exc.value.code == "path_traversal"
    with pytest.raises(SyncError) as exc:
        FileRecord.from_wire({**good, "size": 5})
    assert exc.value.code == "bad_record"
    with pytest.raises(SyncError):
        FileRecord.from_wire({**good, "chunks": [["zz", 3]], "size": 3})


def _rec(path: str, version: dict, *, by: str, mtime: int, chunks=(("a" * 64, 1),), deleted=False) -> FileRecord:
    return FileRecord(path, version, deleted, 0 if deleted else sum(n for _d, n in chunks), mtime,
                      [] if deleted else [list(c) for c in chunks], by, [1, mtime])  # fmt: skip


def test_dominating_records_replace_and_older_ones_are_skipped() -> None:
    local = _rec("f", {"a": 1}, by="a", mtime=1)
    newer = _rec("f", {"a": 1, "b": 1}, by="b", mtime=2, chunks=(("b" * 64, 1),))
    assert decide(local, newer, node="a").action == "take"
    assert decide(newer, local, node="b").action == "skip"
    assert decide(None, newer, node="a").action == "take"


def test_a_concurrent_edit_keeps_both_with_the_same_name_on_both_sides() -> None:
    base = {"a": 1}
    on_a = _rec("docs/r.txt", vv_bump(base, "a"), by="a", mtime=100, chunks=(("a" * 64, 1),))
    on_b = _rec("docs/r.txt", vv_bump(base, "b"), by="b", mtime=200, chunks=(("b" * 64, 1),))
    at_a = decide(on_a, on_b, node="a")  # b is newer: a's copy moves aside
    at_b = decide(on_b, on_a, node="b")  # b keeps its file and writes a's beside it
    assert at_a.action == at_b.action == "conflict"
    assert at_a.conflict_from == "local" and at_b.conflict_from == "remote"
    assert at_a.conflict_path == at_b.conflict_path == conflict_name("docs/r.txt", "a", 100)
    assert at_a.conflict_path.startswith("docs/r.conflict-a-19700101-000000") and at_a.conflict_path.endswith(".txt")
    assert at_a.merged.chunks == at_b.merged.chunks == on_b.chunks
    assert vv_compare(at_b.merged.version, at_a.merged.version) == "greater"  # b's answer settles a


def test_an_edit_beats_a_concurrent_delete_and_tombstones_propagate() -> None:
    edit = _rec("f", {"a": 1, "b": 1}, by="b", mtime=5)
    gone = _rec("f", {"a": 2}, by="a", mtime=9, deleted=True)
    assert decide(gone, edit, node="a").action == "take"
    keep = decide(edit, gone, node="b")
    assert keep.action == "skip" and vv_compare(keep.merged.version, gone.version) == "greater"
    assert decide(_rec("f", {"a": 1}, by="a", mtime=1), gone, node="b").action == "take"


def test_materialize_is_atomic_and_refuses_to_overwrite_a_local_edit(node) -> None:
    root, index, store = node
    (root / "f.txt").write_bytes(b"v1")
    (rec,) = scan(root, index, node="a", store=store)
    digest = store.put(b"v2-remote")
    remote = FileRecord("f.txt", {"a": 1, "b": 1}, False, 9, 123_000_000_000, [[digest, 9]], "b")
    materialize(root, remote, store, expect_local=rec)
    assert (root / "f.txt").read_bytes() == b"v2-remote"
    assert not [p for p in root.iterdir() if p.name.startswith(".dreamsync-tmp-")]
    (root / "f.txt").write_bytes(b"edited here meanwhile")
    with pytest.raises(SyncError) as exc:
        materialize(root, remote, store, expect_local=rec)
    assert exc.value.code == "local_changed"
    assert (root / "f.txt").read_bytes() == b"edited here meanwhile"


def test_a_missing_chunk_leaves_the_old_file(node) -> None:
    root, index, store = node
    (root / "f.txt").write_bytes(b"good")
    (rec,) = scan(root, index, node="a", store=store)
    remote = FileRecord("f.txt", {"a": 1, "b": 1}, False, 5, 1, [["c" * 64, 5]], "b")
    with pytest.raises(FileNotFoundError):
        materialize(root, remote, store, expect_local=rec)
    assert (root / "f.txt").read_bytes() == b"good"
    assert sorted(p.name for p in root.iterdir()) == ["f.txt"]


def test_manifest_digest_is_order_independent() -> None:
    a, b = _rec("a", {"x": 1}, by="x", mtime=1), _rec("b", {"x": 1}, by="x", mtime=1)
    assert manifest_digest([a, b]) == manifest_digest([b, a]) != manifest_digest([a])


def test_the_index_survives_a_reload(node) -> None:
    root, index, store = node
    (root / "f").write_bytes(b"x")
    scan(root, index, node="a", store=store)
    index.save()
    again = Index.load(index.path)
    assert again.records["f"].version == {"a": 1} and again.records["f"].local_stat


def test_a_full_disk_leaves_the_old_file_and_no_temp_file(node, monkeypatch) -> None:
    root, index, store = node
    (root / "f.txt").write_bytes(b"good")
    (rec,) = scan(root, index, node="a", store=store)
    digest = store.put(b"new content")
    remote = FileRecord("f.txt", {"a": 1, "b": 1}, False, 11, 1, [[digest, 11]], "b")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("mesh.sync.folder.os.fsync", full)
    with pytest.raises(SyncError) as exc:
        materialize(root, remote, store, expect_local=rec)
    assert exc.value.code == "disk_full"
    assert sorted(p.name for p in root.iterdir()) == ["f.txt"] and (root / "f.txt").read_bytes() == b"good"


def test_a_file_changing_while_it_is_read_is_left_for_the_next_scan(node, monkeypatch) -> None:
    root, index, store = node
    (root / "busy.log").write_bytes(b"x" * 1000)
    real_lstat = os.lstat
    calls = {"n": 0}

    def moving_lstat(path, *args, **kwargs):
        st = real_lstat(path, *args, **kwargs)
        if str(path).endswith("busy.log"):
            calls["n"] += 1
            if calls["n"] == 2:  # the re-stat after reading: the writer moved on
                return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid,
                                       st.st_size + 10, st.st_atime, st.st_mtime, st.st_ctime))  # fmt: skip
        return st

    monkeypatch.setattr("mesh.sync.folder.os.lstat", moving_lstat)
    assert scan(root, index, node="a", store=store) == []
    assert "busy.log" not in index.records
    monkeypatch.setattr("mesh.sync.folder.os.lstat", real_lstat)
    assert [r.path for r in scan(root, index, node="a", store=store)] == ["busy.log"]
