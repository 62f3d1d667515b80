"""Durable writes for sync and the formats: a file appears whole or not at all, and is on disk once written.

No Django import: the ``dream`` command uses it directly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TMP_PREFIX = ".dreamsync-tmp-"  # the folder scanner skips files named so: a write in progress is never synced


@contextmanager
def replacing(
    target: Path, *, prefix: str = TMP_PREFIX, before_replace: Callable[[], None] | None = None
) -> Iterator[BinaryIO]:
    """Yield a temp file beside ``target``; when the block ends cleanly its bytes are fsynced, ``before_replace``
    runs (it may raise to keep ``target`` as it is) and the temp file is renamed over ``target``.

    On any error the temp file is removed and ``target`` is untouched. The folder itself is not fsynced, so a
    caller writing many files in one folder pays that once (``fsync_path`` on the folder).
    """
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def write_atomic(target: Path, data: bytes | memoryview, *, prefix: str = TMP_PREFIX) -> None:
    """Replace ``target`` with ``data`` (see ``replacing``)."""
    with replacing(target, prefix=prefix) as f:
        f.write(data)


def fsync_path(path: Path) -> None:
    """Make ``path`` durable: a file's bytes, or a folder's entries (files created, renamed or removed in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
