"""The ``.fractal`` format: an archive of a folder (or one file) for long-term storage, zstd long-range, high level.

Pure module: imports nothing from Django. A .fractal is the shared envelope (:mod:`mesh.sync.envelope`) with magic
``FRCL``, version 1, the header ``{"entries", "kind", "level", "name", "root", "size", "window_log"}`` and one zstd
frame (long-distance matching, window ``2**window_log``) of this stream::

    u32 manifest length M, M bytes of manifest, then the content of every file entry in manifest order

The manifest is a canonical JSON list of entries sorted by path: ``{"path", "type": "dir"}``,
``{"blake3", "exec", "path", "size", "type": "file"}``, ``{"path", "target", "type": "symlink"}``. ``root`` is the
BLAKE3 of the manifest bytes, so it commits to every path and every file's digest.

What is kept, deterministically: paths (UTF-8, ``/``-separated, relative), each file's content and whether it is
executable (opened as 0755, else 0644; folders 0755), and symlinks whose target stays inside the archive. Not
kept: mtimes (an opened file has the time it was opened), owners, other mode bits, hard links (stored as
separate files), empty-vs-missing parents (every parent folder is an explicit entry). Packing and opening both
refuse: absolute paths, ``..`` or ``.`` components, a symlink whose target leaves the folder or passes through
another symlink, special files (sockets, devices, fifos), names that are not UTF-8.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import stat
import struct
from collections.abc import Iterable, Iterator
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
    atomic_dir,
    atomic_file,
    canonical_json,
    check_digest,
    check_fields,
    check_name,
    check_one_frame,
    hash_view,
    mapped,
    parse_json,
    read_envelope,
)

MAGIC = b"FRCL"
VERSION = 1
SUFFIX = ".fractal"
DEFAULT_LEVEL = 19
MAX_WINDOW_LOG = 27  # 128 MiB: the most zstd decoders accept without being told
MAX_MANIFEST = 64 << 20
FIELDS: dict[str, type] = {
    "entries": int,
    "kind": str,
    "level": int,
    "name": str,
    "root": str,
    "size": int,
    "window_log": int,
}
_ENTRY_FIELDS: dict[str, dict[str, type]] = {
    "dir": {"path": str, "type": str},
    "file": {"blake3": str, "exec": bool, "path": str, "size": int, "type": str},
    "symlink": {"path": str, "target": str, "type": str},
}
_U32 = struct.Struct(">I")


def _check_path(path: str) -> None:
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise FormatError(f"entry path {path!r} is empty, absolute or has a backslash or NUL; refused")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise FormatError(f"entry path {path!r} has a {part or 'empty'!r} component (path traversal); refused")
        if len(part.encode()) > 255 or any(ord(c) < 0x20 for c in part):
            raise FormatError(f"entry path {path!r} has a component too long or with control characters; refused")


def check_manifest(entries: Any, *, kind: str, name: str) -> list[dict[str, Any]]:
    """Validate a manifest (for packing and for opening alike); FormatError names the first bad entry."""
    if not isinstance(entries, list):
        raise FormatError("manifest must be a JSON list of entries")
    seen: dict[str, str] = {}
    previous = ""
    for entry in entries:
        kind_of = entry.get("type") if isinstance(entry, dict) else None
        if kind_of not in _ENTRY_FIELDS:
            raise FormatError(f"manifest entry {entry!r:.80} has no known type (dir, file, symlink)")
        check_fields(entry, _ENTRY_FIELDS[kind_of], f"{kind_of} entry")
        path = entry["path"]
        _check_path(path)
        if path <= previous:
            raise FormatError(f"manifest entries are not sorted and unique at {path!r}")
        previous = path
        parent = posixpath.dirname(path)
        if parent and seen.get(parent) != "dir":
            raise FormatError(f"entry {path!r} lies under {parent!r}, which is not a folder entry before it")
        if kind_of == "file":
            check_digest(entry["blake3"], f"file entry {path!r} blake3")
        elif kind_of == "symlink":
            _check_link(path, entry["target"], seen)
        seen[path] = kind_of
    if kind == "file":
        if len(entries) != 1 or entries[0]["type"] != "file" or entries[0]["path"] != name:
            raise FormatError("a single-file archive must hold exactly one file entry, named as the header says")
    elif kind != "dir":
        raise FormatError(f"header kind {kind!r} is neither 'dir' nor 'file'")
    return entries


def _check_link(path: str, target: str, seen: dict[str, str]) -> None:
    """Refuse a symlink whose target is absolute, leaves the archive, or passes through another symlink."""
    if not target or target.startswith("/") or "\x00" in target or "\\" in target:
        raise FormatError(f"symlink {path!r} points to {target!r}: absolute or malformed targets are refused")
    stack = posixpath.dirname(path).split("/") if posixpath.dirname(path) else []
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                raise FormatError(f"symlink {path!r} points outside the archive ({target!r}); refused")
            stack.pop()
            continue
        stack.append(part)
        if seen.get("/".join(stack)) == "symlink":
            raise FormatError(f"symlink {path!r} points through another symlink ({target!r}); refused")


def scan(root: str | os.PathLike[str]) -> tuple[str, str, list[dict[str, Any]], list[Path]]:
    """Read what packing ``root`` stores: kind, name, the manifest entries (files hashed) and the file paths."""
    top = Path(root)
    if top.is_symlink():
        raise FormatError(f"{top} is a symlink; pack the folder or file it points to")
    name = top.resolve().name
    check_name(name, "archive name")
    if top.is_file():
        entry = {"blake3": _hash_file(top), "exec": _is_exec(top), "path": name, "size": top.stat().st_size,
                 "type": "file"}  # fmt: skip
        return "file", name, check_manifest([entry], kind="file", name=name), [top]
    if not top.is_dir():
        raise FormatError(f"{top} is neither a file nor a folder")
    real_top = top.resolve()
    found: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    for current, dirnames, filenames in os.walk(top, followlinks=False):
        for entry_name in [*dirnames, *filenames]:
            full = Path(current) / entry_name
            rel = full.relative_to(top).as_posix()
            try:
                rel.encode()
            except UnicodeEncodeError:
                raise FormatError(f"{full} has a name that is not UTF-8; refused") from None
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(full)
                try:
                    resolved = full.resolve()
                except (RuntimeError, OSError):
                    raise FormatError(f"symlink {rel} is part of a symlink loop; refused") from None
                if not resolved.is_relative_to(real_top):
                    raise FormatError(f"symlink {rel} points outside the folder ({target}); refused")
                found[rel] = {"path": rel, "target": target, "type": "symlink"}
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = {"path": rel, "type": "dir"}
            elif stat.S_ISREG(st.st_mode):
                found[rel] = {"blake3": _hash_file(full), "exec": bool(st.st_mode & 0o111), "path": rel,
                              "size": st.st_size, "type": "file"}  # fmt: skip
                paths[rel] = full
            else:
                raise FormatError(f"{rel} is a special file (socket, device or fifo); refused")
    entries = [found[p] for p in sorted(found)]
    check_manifest(entries, kind="dir", name=name)
    return "dir", name, entries, [paths[e["path"]] for e in entries if e["type"] == "file"]


def _hash_file(path: Path) -> str:
    with mapped(path) as view:
        return hash_view(view).hexdigest()


def _is_exec(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o111)


def window_log_for(size: int) -> int:
    """The zstd window for a stream of ``size`` bytes: the whole stream when it fits, at most 2**27."""
    return min(max(math.ceil(math.log2(max(size, 1))), 10), MAX_WINDOW_LOG)


def write_archive(out: BinaryIO, *, kind: str, name: str, entries: list[dict[str, Any]],
                  contents: Iterable[bytes | memoryview], level: int = DEFAULT_LEVEL,
                  progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Write a .fractal from a manifest and the contents of its file entries, in order. Checks nothing itself:
    :func:`pack_path` validates first; tests use it directly to craft archives a reader must refuse."""
    if not 1 <= level <= 22:
        raise ValueError(f"zstd level must be 1-22, got {level}")
    manifest = canonical_json(entries)
    size = _U32.size + len(manifest) + sum(e.get("size", 0) for e in entries if e.get("type") == "file")
    window_log = window_log_for(size)
    header = {"entries": len(entries), "kind": kind, "level": level, "name": name,
              "root": blake3.blake3(manifest).hexdigest(), "size": size, "window_log": window_log}  # fmt: skip
    params = zstandard.ZstdCompressionParameters.from_level(
        level, source_size=size, window_log=window_log, enable_ldm=1, threads=0,
        write_content_size=1, write_checksum=0, write_dict_id=0,
    )  # fmt: skip
    writer = EnvelopeWriter(out, magic=MAGIC, version=VERSION, header=header)
    compressor = zstandard.ZstdCompressor(compression_params=params)
    with compressor.stream_writer(writer, size=size, closefd=False, write_size=STEP) as z:
        z.write(_U32.pack(len(manifest)) + manifest)
        for content in contents:
            with memoryview(content) as view:
                for start in range(0, len(view), STEP):
                    z.write(view[start : start + STEP])
                    if progress is not None:
                        progress(min(STEP, len(view) - start))
    writer.finish()
    return header


def _file_contents(files: list[Path], entries: list[dict[str, Any]]) -> Iterator[memoryview]:
    """Each file's bytes, re-checked against the digest the manifest took (a file changed meanwhile is refused)."""
    sizes = [e for e in entries if e["type"] == "file"]
    for path, entry in zip(files, sizes, strict=True):
        with mapped(path) as view:
            if len(view) != entry["size"] or hash_view(view).hexdigest() != entry["blake3"]:
                raise FormatError(f"{path} changed while it was being packed; pack again")
            yield view


def pack_path(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, level: int = DEFAULT_LEVEL,
              force: bool = False, progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Pack the folder or file ``src`` into ``dst`` (atomically); return the header."""
    kind, name, entries, files = scan(src)
    with atomic_file(dst, force=force) as out:
        return write_archive(out, kind=kind, name=name, entries=entries, contents=_file_contents(files, entries),
                             level=level, progress=progress)  # fmt: skip


def pack(src: str | os.PathLike[str], *, level: int = DEFAULT_LEVEL) -> bytes:
    """Return the .fractal of the folder or file ``src``."""
    kind, name, entries, files = scan(src)
    out = io.BytesIO()
    write_archive(out, kind=kind, name=name, entries=entries, contents=_file_contents(files, entries), level=level)
    return out.getvalue()


def _header(data: bytes | memoryview) -> tuple[dict[str, Any], memoryview]:
    envelope = read_envelope(data, magic=MAGIC, version=VERSION, kind="fractal", fields=FIELDS)
    header = envelope.header
    check_digest(header["root"], "header root")
    check_name(header["name"])
    if header["kind"] not in ("dir", "file"):
        raise FormatError(f"header kind {header['kind']!r} is neither 'dir' nor 'file'")
    if not 1 <= header["level"] <= 22:
        raise FormatError(f"header level {header['level']} is not a zstd level (1-22)")
    if not 10 <= header["window_log"] <= MAX_WINDOW_LOG:
        raise FormatError(f"header window_log {header['window_log']} is outside 10-{MAX_WINDOW_LOG}")
    return header, envelope.payload


class _Stream:
    """Exact reads from the decompressed stream, bounded by the header's size."""

    def __init__(self, payload: memoryview, header: dict[str, Any]):
        decompressor = zstandard.ZstdDecompressor(max_window_size=1 << header["window_log"])
        self.reader = decompressor.stream_reader(payload, read_across_frames=False, closefd=False)
        self.size, self.read_so_far = header["size"], 0

    def read(self, n: int, what: str) -> bytes:
        if self.read_so_far + n > self.size:
            raise FormatError(f"{what} runs past the declared stream size of {self.size} bytes")
        parts, need = [], n
        try:
            while need:
                chunk = self.reader.read(min(need, STEP))
                if not chunk:
                    raise FormatError(f"stream ends inside {what}")
                parts.append(chunk)
                need -= len(chunk)
        except zstandard.ZstdError as exc:
            raise FormatError(f"zstd payload does not decompress: {exc}") from None
        self.read_so_far += n
        return b"".join(parts)

    def copy(self, n: int, sink: HashingSink, what: str) -> None:
        for start in range(0, n, STEP):
            sink.write(self.read(min(STEP, n - start), what))

    def finish(self) -> None:
        try:
            extra = self.reader.read(1)
        except zstandard.ZstdError as exc:
            raise FormatError(f"zstd payload does not decompress: {exc}") from None
        if extra or self.read_so_far != self.size:
            raise FormatError("stream holds bytes after the last file")


def _walk(data: bytes | memoryview, dest: Path | None, progress: Progress = None, *,
          single: BinaryIO | None = None) -> dict[str, Any]:  # fmt: skip
    """Verify an archive; with ``dest`` (a fresh folder) write its entries there as they are verified, with
    ``single`` (an open temp file) write the one file of a single-file archive there."""
    header, payload = _header(data)
    check_one_frame(payload, header["size"])
    stream = _Stream(payload, header)
    (manifest_len,) = _U32.unpack(stream.read(_U32.size, "the manifest length"))
    if manifest_len > MAX_MANIFEST:
        raise FormatError(f"manifest of {manifest_len} bytes exceeds the {MAX_MANIFEST}-byte limit")
    manifest = stream.read(manifest_len, "the manifest")
    if blake3.blake3(manifest).hexdigest() != header["root"]:
        raise FormatError("root digest mismatch: the manifest is not the one the header names")
    entries = check_manifest(parse_json(manifest, "manifest"), kind=header["kind"], name=header["name"])
    if len(entries) != header["entries"]:
        raise FormatError(f"header says {header['entries']} entries, the manifest lists {len(entries)}")
    expected = _U32.size + manifest_len + sum(e["size"] for e in entries if e["type"] == "file")
    if expected != header["size"]:
        raise FormatError(f"size mismatch: header says {header['size']} stream bytes, the manifest adds to {expected}")
    for entry in entries:
        path = entry["path"]
        target = dest / path if dest is not None else None
        if entry["type"] == "dir":
            if target is not None:
                target.mkdir(mode=0o755)
                target.chmod(0o755)
        elif entry["type"] == "symlink":
            if target is not None:
                os.symlink(entry["target"], target)
        elif single is not None:  # a single-file archive opened into the caller's temp file
            _copy_checked(stream, entry, single, progress)
            os.fchmod(single.fileno(), 0o755 if entry["exec"] else 0o644)
        elif target is not None:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as out:
                _copy_checked(stream, entry, out, progress)
                out.flush()
                os.fsync(out.fileno())
                os.fchmod(out.fileno(), 0o755 if entry["exec"] else 0o644)
        else:
            _copy_checked(stream, entry, None, progress)
    stream.finish()
    return header


def _copy_checked(stream: _Stream, entry: dict[str, Any], out: BinaryIO | None, progress: Progress) -> None:
    sink = HashingSink(out, progress)
    stream.copy(entry["size"], sink, f"the content of {entry['path']!r}")
    if sink.hexdigest() != entry["blake3"]:
        raise FormatError(f"content digest mismatch for {entry['path']!r}: altered or corrupted")


def verify(data: bytes | memoryview, *, progress: Progress = None) -> dict[str, Any]:
    """Verify a .fractal completely (every digest, every entry) without writing anything; return its header."""
    return _walk(data, None, progress)


def entries_of(data: bytes | memoryview) -> list[dict[str, Any]]:
    """The verified manifest of a .fractal (after a full verification)."""
    header, payload = _header(data)
    verify(data)
    stream = _Stream(payload, header)
    (manifest_len,) = _U32.unpack(stream.read(_U32.size, "the manifest length"))
    return parse_json(stream.read(manifest_len, "the manifest"), "manifest")


def open_file(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None, *, force: bool = False,
              progress: Progress = None) -> tuple[dict[str, Any], Path]:  # fmt: skip
    """Verify ``src`` and write what it holds to ``dst`` (default: the header's name beside ``src``), atomically."""
    with mapped(src) as view:
        header = _header(view)[0]
        target = Path(dst) if dst is not None else Path(src).parent / header["name"]
        if header["kind"] == "file":
            with atomic_file(target, force=force) as out:
                _walk(view, None, progress, single=out)
        else:
            with atomic_dir(target, force=force) as folder:
                folder.chmod(0o755)
                _walk(view, folder, progress)
    return header, target


def verify_file(src: str | os.PathLike[str], *, progress: Progress = None) -> dict[str, Any]:
    with mapped(src) as view:
        return verify(view, progress=progress)
