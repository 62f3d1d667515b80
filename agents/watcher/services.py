"""The request folder watcher: files dropped into DREAMNET_REQUESTS_DIR become missions.

One scan (:func:`request_folder_scan`) does this for each settled file, oldest first:

1. **Claim** it with an atomic ``os.rename`` into ``processing/`` under a unique claim name. Of several watchers
   (the scheduled task, ``manage.py watch_requests``, other nodes on a shared folder) exactly one wins the
   rename; the others find the file gone and move on.
2. **Check** that it did not change while being claimed and read (a writer still holding it open), then parse
   and validate it, and create the mission with :func:`agents.services.mission_create` in the same transaction
   as its ``RequestFile`` row. The row's partial unique constraint on the content digest makes a second
   mission for the same content impossible, even for two watchers racing on two copies of one file.
3. **Move** it to ``processed/`` (also duplicates) or ``failed/`` with ``NAME.error`` beside it, without
   overwriting: a clash gets a ``-2``, ``-3`` ... suffix.

A crash leaves the file in ``processing/``: if its row was committed, the next scan after CLAIM_STALE_S only
finishes the move (no second mission); if not, the file goes back to the folder and is taken again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from blake3 import blake3
from django.conf import settings
from django.db import IntegrityError, transaction

from agents.errors import AgentsError
from agents.services import mission_create
from agents.watcher.models import RequestFile
from agents.watcher.parse import RequestFieldError, RequestParseError, format_of, request_fields, request_parse
from mesh import publish_on_commit

logger = logging.getLogger(__name__)

PROCESSING, PROCESSED, FAILED = "processing", "processed", "failed"
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".swp", ".crdownload", "~")
# A claimed file untouched this long belongs to a watcher that died: finish its move or put it back.
CLAIM_STALE_S = 120
CLAIM_RE = re.compile(r"(?P<at>\d{10,})-(?P<token>[0-9a-f]{8})\.(?P<name>.+)")
VIA_PREFIX = "requests:"
MAX_CLAIMED_NAME_BYTES = 200  # + the claim prefix stays under the usual 255-byte NAME_MAX


@dataclass(frozen=True)
class Picked:
    """What became of one file."""

    name: str
    status: str
    mission_id: int | None = None
    code: str = ""
    error: str = ""
    moved_to: str = ""


@dataclass
class ScanResult:
    picked: list[Picked] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # names not settled yet (still being written?)
    recovered: int = 0  # claims a dead watcher left behind, finished or put back


def requests_dir() -> Path:
    return Path(settings.REQUESTS_DIR)


def _folders(directory: Path) -> None:
    for sub in (PROCESSING, PROCESSED, FAILED):
        (directory / sub).mkdir(parents=True, exist_ok=True)


def is_ignored(name: str) -> bool:
    """Return True for names a writer uses while it writes (dotfiles, *.tmp, *.part, editor swap files...)."""
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES) or name.endswith(".error")


def _same_inode(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _move_no_clobber(src: Path, folder: Path, name: str, *, error_file: bool = False) -> Path | None:
    """Move ``src`` into ``folder`` as ``name`` (or ``stem-2.ext``, ``stem-3.ext`` ... when taken) without ever
    replacing a file. Return the new path, or None when ``src`` is gone (another watcher moved it)."""
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}{ext}")
        if error_file and candidate.with_name(candidate.name + ".error").exists():
            continue
        try:
            # link() fails when the target exists, so two movers can never overwrite each other.
            os.link(src, candidate, follow_symlinks=False)
        except FileExistsError:
            try:
                if not _same_inode(os.lstat(src), os.lstat(candidate)):
                    continue
            except FileNotFoundError:
                return None
            # Another mover of this very file got here first: finish its move rather than make a second copy.
        except FileNotFoundError:
            return None
        except OSError:  # a file system without hard links: check, then rename
            if candidate.exists() or candidate.is_symlink():
                continue
            try:
                os.rename(src, candidate)
            except FileNotFoundError:
                return None
            return candidate
        with contextlib.suppress(FileNotFoundError):
            os.unlink(src)
        return candidate
    raise RuntimeError(f"{folder} holds 10,000 files named like {name!r}; clear it out")


def _finish(row: RequestFile, claimed: Path, directory: Path) -> str:
    """Move a decided file out of processing/ (with its .error file when it failed) and record where it went."""
    failed = row.status == RequestFile.Status.FAILED
    dest = _move_no_clobber(claimed, directory / (FAILED if failed else PROCESSED), row.name, error_file=failed)
    if dest is None:
        return row.moved_to
    if failed:
        note = (
            f"request file: {row.name}\nfailed at: {row.created_at:%Y-%m-%d %H:%M:%S} UTC\ncode: {row.code}\n"
            f"reason: {row.error}\n\nFix the file and drop it into {directory} again.\n"
        )
        with (
            contextlib.suppress(FileExistsError),
            open(dest.with_name(dest.name + ".error"), "x", encoding="utf-8") as fh,
        ):
            fh.write(note)  # "x": a racing mover of the same file wrote it already
    moved_to = str(dest.relative_to(directory))
    RequestFile.objects.filter(pk=row.pk).update(moved_to=moved_to)
    row.moved_to = moved_to
    return moved_to


def _record_failed(*, name: str, claim: str, digest: str, size: int, fmt: str, code: str, error: str) -> RequestFile:
    with transaction.atomic():
        row = RequestFile.objects.create(
            name=name, claim=claim, blake3=digest, size=size, format=fmt or "",
            status=RequestFile.Status.FAILED, code=code[:40], error=error,
        )  # fmt: skip
        publish_on_commit("request.failed", {"file": name, "blake3": digest, "code": row.code, "reason": error})
    return row


def _budget(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise AgentsError(
            f"budget_usd {text!r} is not an amount in US dollars (e.g. 0.50).", code="bad_budget"
        ) from None


def _original(digest: str) -> RequestFile | None:
    """Return the processed row of this content, if any (the row that owns its one mission)."""
    return RequestFile.objects.filter(blake3=digest, status=RequestFile.Status.PROCESSED).first()


def _decide(*, name: str, claim: str, content: bytes, digest: str, fmt: str) -> RequestFile:
    """Turn a claimed file's content into a RequestFile row (and a mission, unless it fails or repeats)."""
    common = {"name": name, "claim": claim, "digest": digest, "size": len(content), "fmt": fmt}
    try:
        request = request_parse(content, name=name)
        kind, agent, budget_text, model, data = request_fields(request)
        budget = _budget(budget_text)
    except (RequestParseError, RequestFieldError, AgentsError) as exc:
        return _record_failed(**common, code=exc.code, error=str(exc))
    row_fields = {"name": name, "claim": claim, "blake3": digest, "size": len(content), "format": fmt}
    with transaction.atomic():
        original = _original(digest)
        if original is None:
            try:
                with transaction.atomic():  # a savepoint: a refusal or a lost race leaves no mission behind
                    mission = mission_create(
                        kind=kind, agent_slug=agent, data=data, via=f"{VIA_PREFIX}{name}", budget_usd=budget,
                        model=model,
                    )  # fmt: skip
                    ignored = sorted(key for key in data if key not in (mission.input or {}))
                    row = RequestFile.objects.create(
                        **row_fields, status=RequestFile.Status.PROCESSED, mission=mission, ignored_fields=ignored
                    )
            except AgentsError as exc:
                return _record_failed(**common, code=exc.code, error=str(exc))
            except IntegrityError:
                # Another watcher committed the same content in the meantime: this copy is a duplicate.
                original = RequestFile.objects.get(blake3=digest, status=RequestFile.Status.PROCESSED)
            else:
                publish_on_commit(
                    "request.picked_up",
                    {"file": name, "blake3": digest, "mission": mission.pk, "kind": kind, "agent": agent,
                     "ignored_fields": ignored},
                )  # fmt: skip
                return row
        row = RequestFile.objects.create(
            **row_fields, status=RequestFile.Status.DUPLICATE, mission_id=original.mission_id
        )
        publish_on_commit("request.duplicate", {"file": name, "blake3": digest, "mission": original.mission_id})
    return row


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name (surrogate escapes): no row could record it
        return False
    return True


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ino) == (b.st_size, b.st_mtime_ns, b.st_ino)


def _put_back(claimed: Path, directory: Path, name: str) -> None:
    _move_no_clobber(claimed, directory, name)


def _take(claimed: Path, *, name: str, directory: Path, looked: os.stat_result) -> Picked | None:
    """Decide and move one claimed file; None when it turned out to be still written (it is put back)."""
    claim = claimed.name
    st = os.lstat(claimed)
    fmt = format_of(name) or ""
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(claimed).encode("utf-8", "surrogateescape")
        row = _record_failed(
            name=name, claim=claim, digest=blake3(target).hexdigest(), size=0, fmt=fmt, code="not_a_file",
            error="symbolic links are not accepted; drop (or rename into place) the file itself",
        )  # fmt: skip
    elif st.st_size > settings.REQUESTS_MAX_BYTES:
        digest = blake3(max_threads=1).update_mmap(claimed).hexdigest()
        row = _record_failed(
            name=name, claim=claim, digest=digest, size=st.st_size, fmt=fmt, code="too_large",
            error=f"the file is {st.st_size:,} bytes; request files are at most {settings.REQUESTS_MAX_BYTES:,} "
            "bytes (DREAMNET_REQUESTS_MAX_BYTES)",
        )  # fmt: skip
    else:
        content = claimed.read_bytes()
        if not _same(st, looked) or not _same(st, os.lstat(claimed)) or len(content) != st.st_size:
            _put_back(claimed, directory, name)  # a writer still has it open
            return None
        row = _decide(name=name, claim=claim, content=content, digest=blake3(content).hexdigest(), fmt=fmt)
    moved_to = _finish(row, claimed, directory)
    return Picked(name, row.status, row.mission_id, row.code, row.error, moved_to)


def _fail_unexpected(claimed: Path, *, name: str, directory: Path, exc: Exception) -> Picked | None:
    """Fail a file whose processing raised something unforeseen (a runner's bug, say), so it is not retried
    forever. When even that cannot be recorded (the database is away), leave the claim for recovery."""
    try:
        digest = blake3(max_threads=1).update_mmap(claimed).hexdigest() if claimed.is_file() else ""
        row = _record_failed(
            name=name, claim=claimed.name, digest=digest, size=claimed.lstat().st_size, fmt=format_of(name) or "",
            code="internal_error",
            error=f"the watcher could not process this file ({type(exc).__name__}: {exc}); the server log has "
            "the details",
        )  # fmt: skip
        moved_to = _finish(row, claimed, directory)
    except Exception:
        logger.exception("request folder: %s stays in %s for the next scan", name, claimed.parent)
        return None
    return Picked(name, row.status, None, row.code, row.error, moved_to)


def _recover(directory: Path, now: float) -> int:
    """Finish what a dead watcher left in processing/: move decided files on, put undecided ones back."""
    count = 0
    for entry in os.scandir(directory / PROCESSING):
        match = CLAIM_RE.fullmatch(entry.name)
        at, name = (
            (int(match["at"]), match["name"])
            if match
            else (int(entry.stat(follow_symlinks=False).st_mtime), entry.name)
        )
        if now - at < CLAIM_STALE_S or entry.is_dir(follow_symlinks=False):
            continue
        row = RequestFile.objects.filter(claim=entry.name).first()
        if row is None:
            logger.warning("request folder: putting back %s, claimed at %s by a watcher that stopped", name, at)
            _put_back(Path(entry.path), directory, name)
        elif not row.moved_to:
            _finish(row, Path(entry.path), directory)
        count += 1
    return count


def request_folder_scan(*, directory: Path | None = None, limit: int = 100) -> ScanResult:
    """Take every settled request file in ``directory`` (default DREAMNET_REQUESTS_DIR), oldest first, up to
    ``limit``, and turn each into a mission, a duplicate record or a failure with its reason.

    A file is settled when its modification time is at least DREAMNET_REQUESTS_SETTLE_S old and a second look
    finds it unchanged. Dotfiles, ``*.tmp``, ``*.part``, ``*.partial``, ``*.swp`` and ``*~`` are never taken.
    Each file's row and mission are written in one transaction; publishes ``request.picked_up``,
    ``request.duplicate`` or ``request.failed`` (and the mission's own events) after it commits.
    """
    directory = Path(directory or requests_dir())
    _folders(directory)
    now = time.time()
    result = ScanResult(recovered=_recover(directory, now))
    found: list[tuple[float, str, os.stat_result]] = []
    for entry in os.scandir(directory):
        if is_ignored(entry.name) or entry.is_dir(follow_symlinks=False):
            continue
        if not _utf8(entry.name):
            logger.warning("request folder: skipping %r: rename it to a UTF-8 name", entry.name)
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            continue  # sockets, fifos: nothing a person drops
        if now - st.st_mtime < settings.REQUESTS_SETTLE_S:
            result.waiting.append(entry.name)
        else:
            found.append((st.st_mtime, entry.name, st))
    for _mtime, name, first in sorted(found)[:limit]:
        src = directory / name
        try:
            looked = os.lstat(src)
        except FileNotFoundError:
            continue  # another watcher took it
        if not _same(first, looked):
            result.waiting.append(name)
            continue
        # The claim name keeps the file's name (recovery puts an undecided file back under it) within NAME_MAX.
        short = name if len(name.encode()) <= MAX_CLAIMED_NAME_BYTES else name[-MAX_CLAIMED_NAME_BYTES // 4 :]
        claimed = directory / PROCESSING / f"{int(now)}-{secrets.token_hex(4)}.{short}"
        try:
            os.rename(src, claimed)
        except FileNotFoundError:
            continue
        try:
            picked = _take(claimed, name=name, directory=directory, looked=looked)
        except Exception as exc:
            logger.exception("request folder: could not process %s", name)
            picked = _fail_unexpected(claimed, name=name, directory=directory, exc=exc)
            if picked is None:
                continue
        if picked is None:
            result.waiting.append(name)
        else:
            result.picked.append(picked)
    return result
