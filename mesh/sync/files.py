"""One entry point for the four file formats: detect by magic, open (verify and write), verify, pack.

Pure module: imports nothing from Django; the ``dream`` file verbs call only this. Every result is a plain dict
(what ``--json`` prints): the format, the paths, the sizes and the content digest.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from mesh import dreamfile
from mesh.sync import fractal, qdlt, qport
from mesh.sync.envelope import FormatError, Progress, atomic_file, check_name

FORMATS = {b"DRFL": "dreamfile", b"QPRT": "qport", b"QDLT": "qdlt", b"FRCL": "fractal"}
SUFFIXES = {"dreamfile": ".dreamfile", "qport": qport.SUFFIX, "qdlt": qdlt.SUFFIX, "fractal": fractal.SUFFIX}


def detect(path: str | os.PathLike[str]) -> str:
    """The format of the file at ``path`` by its first four bytes; FormatError when none of the four."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic not in FORMATS:
        raise FormatError(
            f"{path} is not a .dreamfile, .qport, .qdlt or .fractal (it starts with {magic!r}, no known magic)"
        )
    return FORMATS[magic]


def _result(kind: str, src: Path, header: dict[str, Any], output: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"format": kind, "file": str(src), "file_size": src.stat().st_size}
    if output is not None:
        out["output"] = str(output)
    if kind == "fractal":
        out.update(name=header["name"], kind=header["kind"], entries=header["entries"], root=header["root"],
                   stream_size=header["size"])  # fmt: skip
    else:
        out.update(name=header["name"], size=header["size"], blake3=header["blake3"])
    if kind == "qdlt":
        out.update(base_blake3=header["base_blake3"], base_size=header["base_size"])
    return out


def open_any(src: str | os.PathLike[str], dst: str | os.PathLike[str] | None = None, *,
             base: str | os.PathLike[str] | None = None, force: bool = False,
             progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Verify ``src`` (any of the four formats) and write what it holds; ``base`` is required for a .qdlt."""
    src = Path(src)
    kind = detect(src)
    if kind != "qdlt" and base is not None:
        raise FormatError(f"--base only applies to a .qdlt; {src} is a .{kind}")
    if kind == "qport":
        header, output = qport.open_file(src, dst, force=force, progress=progress)
    elif kind == "qdlt":
        if base is None:
            raise FormatError(f"{src} is a .qdlt (a delta): give the file it applies to with --base")
        header, output = qdlt.apply_file(src, base, dst, force=force, progress=progress)
    elif kind == "fractal":
        header, output = fractal.open_file(src, dst, force=force, progress=progress)
    else:
        header, output = _dreamfile_open(src, dst, force=force)
    return _result(kind, src, header, output)


def verify_any(src: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None,
               progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Verify ``src`` completely without writing. A .qdlt without ``base`` is checked without rebuilding it."""
    src = Path(src)
    kind = detect(src)
    if kind != "qdlt" and base is not None:
        raise FormatError(f"--base only applies to a .qdlt; {src} is a .{kind}")
    if kind == "qport":
        header = qport.verify_file(src, progress=progress)
    elif kind == "qdlt":
        header = qdlt.verify_file(src, base, progress=progress)
    elif kind == "fractal":
        header = fractal.verify_file(src, progress=progress)
    else:
        header = _dreamfile_unpack(src)[0]
    result = _result(kind, src, header)
    result["complete"] = kind != "qdlt" or base is not None  # a delta without its base: structure only
    return result


def pack_any(src: str | os.PathLike[str], kind: str, dst: str | os.PathLike[str] | None = None, *,
             base: str | os.PathLike[str] | None = None, level: int | None = None, force: bool = False,
             progress: Progress = None) -> dict[str, Any]:  # fmt: skip
    """Pack ``src`` as ``kind`` into ``dst`` (default: ``src`` + the format's suffix, beside it)."""
    src = Path(os.path.abspath(src))  # "." and "dir/" have a name; symlinks are not followed
    if kind not in SUFFIXES:
        raise ValueError(f"unknown format {kind!r}; choose one of {', '.join(SUFFIXES)}")
    if kind == "qdlt" and base is None:
        raise ValueError("a .qdlt is a delta: give the file it is made from with --base")
    if kind != "qdlt" and base is not None:
        raise ValueError(f"--base only applies to --format qdlt, not {kind}")
    if kind != "fractal" and not src.is_file():
        raise FileNotFoundError(f"{src} is not a file")
    output = Path(dst) if dst is not None else src.parent / (src.name + SUFFIXES[kind])
    if kind == "qport":
        header = qport.pack_file(src, output, level=level or qport.DEFAULT_LEVEL, force=force, progress=progress)
    elif kind == "qdlt":
        header = qdlt.delta_file(base, src, output, level=level or qdlt.DEFAULT_LEVEL, force=force,  # type: ignore[arg-type]
                                 progress=progress)  # fmt: skip
    elif kind == "fractal":
        header = fractal.pack_path(src, output, level=level or fractal.DEFAULT_LEVEL, force=force, progress=progress)
    else:
        header = _dreamfile_pack(src, output, force=force)
    return _result(kind, output, header) | {"source": str(src)}


def size_hint(path: str | os.PathLike[str]) -> int:
    """The size of what opening ``path`` produces, read from its header without verifying anything (for a
    progress bar); the file's own size when the header cannot be read."""
    import json
    import struct

    path = Path(path)
    try:
        with open(path, "rb") as f:
            prefix = f.read(50)
            magic, _, _, header_len, _, _ = struct.unpack(">4sBBIQ32s", prefix)
            if magic in (b"QPRT", b"QDLT", b"FRCL") and header_len < 1 << 20:
                return int(json.loads(f.read(header_len))["size"])
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        pass
    return path.stat().st_size


def _dreamfile_unpack(src: Path) -> tuple[dict[str, Any], bytes]:
    try:
        header, content = dreamfile.unpack(src.read_bytes())
    except dreamfile.DreamfileError as exc:
        raise FormatError(str(exc)) from None
    return dict(header), content


def _dreamfile_open(src: Path, dst: str | os.PathLike[str] | None, *, force: bool) -> tuple[dict[str, Any], Path]:
    header, content = _dreamfile_unpack(src)
    check_name(header["name"])
    output = Path(dst) if dst is not None else src.parent / header["name"]
    with atomic_file(output, force=force) as out:
        out.write(content)
    return header, output


def _dreamfile_pack(src: Path, output: Path, *, force: bool) -> dict[str, Any]:
    media_type = mimetypes.guess_type(src.name)[0] or "application/octet-stream"
    try:
        data = dreamfile.pack(src.read_bytes(), name=src.name, media_type=media_type, compression="zstd")
    except dreamfile.DreamfileError as exc:
        raise FormatError(str(exc)) from None
    with atomic_file(output, force=force) as out:
        out.write(data)
    return dict(dreamfile.unpack(data)[0])
