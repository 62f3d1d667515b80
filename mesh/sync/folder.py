"""A synced folder's index: one record per file with its version vector, chunk list and tombstone.

Pure logic, no Django (the sync loop, the consumer and the tests use it directly). The shape follows Syncthing's
Block Exchange Protocol: each file carries a version vector ``{node: counter}``; a node that changes a file bumps
its own counter; a record whose vector dominates the local one replaces it; two concurrent vectors are a conflict,
resolved the same way on both sides (the newer modification wins, ties go to the larger node id; an edit beats a
delete) with the loser kept as ``name.conflict-<node>-<utc>.ext``. A deletion is a tombstone record, so it
propagates and is not undone by a peer that still has the file. A rename is a deletion plus a new file whose
chunks the receiver already has, so it moves no file bytes.

Paths in records are relative POSIX paths; ``check_path`` refuses anything that could leave the folder.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mesh.sync.chunks import DIGEST_HEX, ChunkStore, chunks_of, digest_of
from mesh.sync.durable import TMP_PREFIX, fsync_path, replacing, write_atomic

STATE_DIR = ".dreamsync"  # never synced; reserved at the folder's top
IGNORE_FILE = ".dreamignore"
MAX_PATH = 1024
MAX_FILE_BYTES = 64 * 1024**3

Vector = dict[str, int]
IO_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dreamsync-io")  # fsync-bound writes overlap


class SyncError(Exception):
    """A sync step refused or failed; ``code`` is stable ('path_traversal', 'disk_full', 'tampered_chunk', ...)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# Version vectors -------------------------------------------------------------------------------------------------


def vv_compare(a: Vector, b: Vector) -> str:
    """'equal', 'greater' (a dominates b), 'less' (b dominates a) or 'concurrent'."""
    keys = set(a) | set(b)
    a_more = any(a.get(k, 0) > b.get(k, 0) for k in keys)
    b_more = any(b.get(k, 0) > a.get(k, 0) for k in keys)
    if a_more and b_more:
        return "concurrent"
    if a_more:
        return "greater"
    if b_more:
        return "less"
    return "equal"


def vv_merge(a: Vector, b: Vector) -> Vector:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in sorted(set(a) | set(b))}


def vv_bump(v: Vector, node: str) -> Vector:
    out = dict(v)
    out[node] = out.get(node, 0) + 1
    return dict(sorted(out.items()))


# Records ---------------------------------------------------------------------------------------------------------


@dataclass
class FileRecord:
    """One path's latest known state. ``chunks`` is [[digest, length], ...]; a tombstone has none."""

    path: str
    version: Vector
    deleted: bool = False
    size: int = 0
    mtime_ns: int = 0
    chunks: list[list[Any]] = field(default_factory=list)
    modified_by: str = ""
    # Local bookkeeping, never sent: the (size, mtime_ns) seen on disk when the record was last made true.
    local_stat: list[int] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {"path": self.path, "version": self.version, "deleted": self.deleted, "size": self.size,
                "mtime_ns": self.mtime_ns, "chunks": self.chunks, "modified_by": self.modified_by}  # fmt: skip

    @property
    def content_digest(self) -> str:
        """The manifest digest of this file's content: BLAKE3 over its chunk list ('' for a tombstone)."""
        if self.deleted:
            return ""
        return digest_of(json.dumps(self.chunks, separators=(",", ":")).encode())

    @classmethod
    def from_wire(cls, data: Any) -> FileRecord:
        """Parse a peer's record, refusing a malformed one (SyncError 'bad_record') or an unsafe path."""
        try:
            path = check_path(data["path"])
            version = {str(k): int(v) for k, v in dict(data["version"]).items()}
            deleted = bool(data["deleted"])
            size, mtime_ns = int(data["size"]), int(data["mtime_ns"])
            chunks = [[str(d), int(n)] for d, n in data["chunks"]]
            modified_by = str(data.get("modified_by", ""))[:200]
        except SyncError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError(f"A file record from the peer is malformed: {exc!r}.", code="bad_record") from exc
        if any(len(d) != DIGEST_HEX or any(c not in "0123456789abcdef" for c in d) or n <= 0 for d, n in chunks):
            raise SyncError(f"The record for {path!r} names a chunk that is not a BLAKE3 digest.", code="bad_record")
        if not 0 <= size <= MAX_FILE_BYTES or (not deleted and sum(n for _d, n in chunks) != size):
            raise SyncError(f"The record for {path!r} has a size that its chunks do not add up to.", code="bad_record")
        if any(v < 0 for v in version.values()) or not version:
            raise SyncError(f"The record for {path!r} has no valid version vector.", code="bad_record")
        return cls(path, version, deleted, size, mtime_ns, chunks, modified_by)


def check_path(path: Any) -> str:
    """Return ``path`` if it is a safe relative POSIX path inside the folder; SyncError 'path_traversal' if not."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise SyncError(f"Path {path!r} is empty or too long.", code="path_traversal")
    if "\x00" in path or "\\" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise SyncError(f"Path {path!r} is absolute or has forbidden characters; refused.", code="path_traversal")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise SyncError(f"Path {path!r} has an empty, '.' or '..' component; refused.", code="path_traversal")
    if parts[0] == STATE_DIR or any(p.startswith(TMP_PREFIX) for p in parts):
        raise SyncError(f"Path {path!r} names the folder's sync state; refused.", code="path_traversal")
    return path


def resolve_inside(root: Path, rel: str) -> Path:
    """The absolute path of ``rel`` under ``root``, refusing one whose parents are symlinks leading outside."""
    check_path(rel)
    target = root / rel
    real_root = os.path.realpath(root)
    parent_real = os.path.realpath(target.parent)
    if parent_real != real_root and not parent_real.startswith(real_root + os.sep):
        raise SyncError(f"Path {rel!r} goes through a symlink that leads outside the folder.", code="path_traversal")
    if target.is_symlink():
        raise SyncError(f"Path {rel!r} is a symlink on this node; it is not replaced.", code="path_traversal")
    return target


def conflict_name(path: str, node: str, mtime_ns: int) -> str:
    """``dir/name.conflict-<node>-<utc>.ext`` for the losing side of a conflict (same on both nodes)."""
    p = PurePosixPath(path)
    stamp = datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC).strftime("%Y%m%d-%H%M%S")
    safe_node = "".join(c if c.isalnum() or c in "-_" else "_" for c in node)[:40]
    suffix = p.suffix if p.stem else ""
    stem = p.stem if p.stem else p.name
    return str(p.with_name(f"{stem}.conflict-{safe_node}-{stamp}{suffix}"))


# Ignore patterns -------------------------------------------------------------------------------------------------


class Ignore:
    """``.dreamignore`` patterns (fnmatch, one per line, '#' comments; 'dir/' matches a folder and its contents)."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = [p.strip() for p in patterns if p.strip() and not p.strip().startswith("#")]

    @classmethod
    def of_folder(cls, root: Path) -> Ignore:
        try:
            return cls((root / IGNORE_FILE).read_text(errors="replace").splitlines())
        except FileNotFoundError:
            return cls()

    def ignored(self, rel: str) -> bool:
        parts = rel.split("/")
        if parts[0] == STATE_DIR or parts[-1].startswith(TMP_PREFIX):
            return True
        for pat in self.patterns:
            if pat.endswith("/"):
                if any(fnmatch.fnmatchcase(part, pat[:-1]) for part in parts[:-1]):
                    return True
            elif "/" in pat:
                if fnmatch.fnmatchcase(rel, pat.lstrip("/")):
                    return True
            elif fnmatch.fnmatchcase(parts[-1], pat):
                return True
        return False


# The index -------------------------------------------------------------------------------------------------------


class Index:
    """All records of one folder, saved as JSON (atomically) in the node's sync state, not in the folder."""

    def __init__(self, path: Path, records: dict[str, FileRecord] | None = None) -> None:
        self.path = path
        self.records = records or {}

    @classmethod
    def load(cls, path: Path) -> Index:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        records = {}
        for r in raw["records"]:
            rec = FileRecord(r["path"], r["version"], r["deleted"], r["size"], r["mtime_ns"], r["chunks"],
                             r.get("modified_by", ""), r.get("local_stat", []))  # fmt: skip
            records[rec.path] = rec
        return cls(path, records)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"records": [{**r.wire(), "local_stat": r.local_stat} for r in self.records.values()]}
        write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode())

    def live(self) -> dict[str, FileRecord]:
        return {p: r for p, r in self.records.items() if not r.deleted}


def manifest_digest(records: Iterable[FileRecord]) -> str:
    """BLAKE3 over the canonical JSON of the records' wire form, sorted by path: what a receipt names."""
    body = sorted((r.wire() for r in records), key=lambda w: w["path"])
    return digest_of(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def _walk(root: Path, ignore: Ignore) -> dict[str, os.stat_result]:
    """Regular files under ``root`` (relative POSIX path -> stat), skipping ignored paths and all symlinks."""
    found: dict[str, os.stat_result] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        dirnames[:] = [d for d in dirnames if not ignore.ignored(f"{rel_dir}/{d}/x".lstrip("/"))]
        for name in filenames:
            rel = f"{rel_dir}/{name}".lstrip("/")
            if ignore.ignored(rel):
                continue
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[rel] = st
    return found


def scan(root: Path, index: Index, *, node: str, store: ChunkStore) -> list[FileRecord]:
    """Compare the folder with ``index`` by a stat scan; chunk changed files into ``store``; return new records.

    A file whose size or mtime changed is read, chunked and re-statted: if it changed while being read, it is
    left for the next scan (no record is made of half an edit). A file gone from disk becomes a tombstone.
    """
    ignore = Ignore.of_folder(root)
    on_disk = _walk(root, ignore)
    changed: list[FileRecord] = []
    pending: list[Future] = []  # chunk writes (each fsynced) overlap; all finish before the records are returned
    for rel, st in sorted(on_disk.items()):
        rec = index.records.get(rel)
        now_stat = [st.st_size, st.st_mtime_ns]
        if rec is not None and not rec.deleted and rec.local_stat == now_stat:
            continue
        try:
            data = (root / rel).read_bytes()
            after = os.lstat(root / rel)
        except (FileNotFoundError, PermissionError):
            continue
        if [after.st_size, after.st_mtime_ns] != now_stat or len(data) != st.st_size:
            continue  # changing while read: next scan
        chunks = chunks_of(data)
        view = memoryview(data)
        pending.extend(IO_POOL.submit(store.put, view[c.offset : c.offset + c.length], digest=c.digest) for c in chunks)
        if len(pending) >= 64:
            _wait_all(pending)
        chunk_list = [[c.digest, c.length] for c in chunks]
        if rec is not None and not rec.deleted and rec.chunks == chunk_list:
            rec.local_stat = now_stat  # touched, same content
            continue
        version = vv_bump(rec.version if rec else {}, node)
        new = FileRecord(rel, version, False, len(data), st.st_mtime_ns, chunk_list, node, now_stat)
        index.records[rel] = new
        changed.append(new)
    _wait_all(pending)
    for rel, rec in sorted(index.records.items()):
        if rec.deleted or rel in on_disk or ignore.ignored(rel):
            continue
        tomb = FileRecord(rel, vv_bump(rec.version, node), True, 0, _now_ns(), [], node, [])
        index.records[rel] = tomb
        changed.append(tomb)
    return changed


def _wait_all(pending: list[Future]) -> None:
    """Wait for every queued chunk write; re-raise the first failure (after all have finished)."""
    try:
        for f in pending:
            f.result()
    finally:
        wait(pending)
        pending.clear()


def _now_ns() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1e9)


# Applying a peer's record ----------------------------------------------------------------------------------------


@dataclass
class Decision:
    """What to do with a peer's record: 'skip', 'take' (write or delete to match it), 'conflict' (keep both)."""

    action: str
    merged: FileRecord | None = None
    conflict_path: str = ""
    conflict_from: str = ""  # 'local' (move the local file aside) or 'remote' (write the remote content aside)


def decide(local: FileRecord | None, remote: FileRecord, *, node: str) -> Decision:
    """Decide how ``remote`` applies over ``local`` (the same answer on both nodes for a concurrent pair)."""
    if local is None:
        return Decision("take", remote)
    order = vv_compare(remote.version, local.version)
    if order in ("equal", "less"):
        return Decision("skip")
    if order == "greater":
        return Decision("take", remote)
    merged_vv = vv_merge(local.version, remote.version)
    if (local.deleted and remote.deleted) or (
        not local.deleted and not remote.deleted and local.chunks == remote.chunks
    ):
        # Same outcome on both sides: adopt the merged vector, nothing to write.
        keep = FileRecord(**{**local.__dict__, "version": merged_vv})
        return Decision("skip", keep)
    if local.deleted != remote.deleted:  # an edit beats a delete
        winner = local if remote.deleted else remote
    else:
        winner = max((local, remote), key=lambda r: (r.mtime_ns, r.modified_by))
    if winner is local:
        keep = FileRecord(**{**local.__dict__, "version": vv_bump(merged_vv, node), "modified_by": node})
        if remote.deleted:
            return Decision("skip", keep)
        return Decision("conflict", keep, conflict_name(remote.path, remote.modified_by, remote.mtime_ns), "remote")
    taken = FileRecord(**{**remote.__dict__, "version": merged_vv, "local_stat": []})
    if local.deleted:
        return Decision("take", taken)
    return Decision("conflict", taken, conflict_name(local.path, local.modified_by, local.mtime_ns), "local")


def materialize(root: Path, rec: FileRecord, store: ChunkStore, *, expect_local: FileRecord | None,
                sync_dir: bool = True) -> list[int]:  # fmt: skip
    """Make ``rec`` true on disk atomically; return the new local stat ([] for a deletion).

    The file is assembled from verified chunks into a temp file in the target folder, fsynced, then renamed over
    the old one; a failure (disk full, a chunk missing) leaves the old file untouched. When the local file
    changed since ``expect_local`` was recorded, nothing is replaced (SyncError 'local_changed'): the next scan
    records the edit and the conflict is resolved from the records.
    """
    target = resolve_inside(root, rec.path)
    _check_unchanged(target, expect_local)
    if rec.deleted:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return []
    if target.is_dir():
        raise SyncError(f"{rec.path!r} is a folder on this node; the file was not written.", code="type_clash")
    target.parent.mkdir(parents=True, exist_ok=True)
    resolve_inside(root, rec.path)  # the folders just made may not be symlinks either
    try:
        with replacing(target, before_replace=lambda: _check_unchanged(target, expect_local)) as f:
            for d, _n in rec.chunks:
                f.write(store.get(d))
            f.flush()
            os.utime(f.fileno(), ns=(rec.mtime_ns, rec.mtime_ns))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise SyncError(f"The disk is full; {rec.path!r} was not replaced.", code="disk_full") from exc
        raise
    if sync_dir:  # else the caller fsyncs the folder once for all the files it wrote there
        fsync_path(target.parent)
    st = os.lstat(target)
    return [st.st_size, st.st_mtime_ns]


def move_aside(root: Path, rel: str, new_rel: str) -> None:
    """Rename the local file ``rel`` to ``new_rel`` (the conflict copy)."""
    src, dst = resolve_inside(root, rel), resolve_inside(root, new_rel)
    os.replace(src, dst)
    fsync_path(dst.parent)


def _check_unchanged(target: Path, expect: FileRecord | None) -> None:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        if expect is not None and not expect.deleted and expect.local_stat:
            return  # deleted locally since: the next scan makes the tombstone; writing the new file is safe
        return
    if expect is None or expect.deleted or expect.local_stat != [st.st_size, st.st_mtime_ns]:
        raise SyncError(f"{target.name} changed on this node during the sync; it is kept.", code="local_changed")


def needed_chunks(records: Iterable[FileRecord], store: ChunkStore) -> list[str]:
    return store.missing(d for r in records if not r.deleted for d, _n in r.chunks)


ProgressFn = Callable[[int, int], None]
