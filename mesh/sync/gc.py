"""Garbage collection of the node's chunk store: remove the chunks nothing live names any more.

The store (``DREAMNET_HOME/chunks``) is shared by portals, signals and file sends and only ever grows as files
change. ``chunks_gc`` marks every chunk a live thing names, then lists the store and removes the rest once they
are older than the grace period (``DREAMNET_SYNC_GC_GRACE_S``). What is live, reader by reader:

- **Open portals: every current (not deleted) record of the index.** The node serves a peer's ``want`` from the
  store (``PortalLink._serve``), not from the folder, and a scan stores the chunks of changed files only, so a
  chunk of an unchanged file that went missing would never come back. Tombstones name no chunks; closed portals
  are not synced, so their chunks go.
- **Open signals: the chunks of every stored manifest, and the signal's index.** A node that publishes or holds a
  signal answers any subscriber's pull (``signal_serve``) with at most ``MAX_MANIFESTS_PER_PULL`` manifests after
  the subscriber's own, and the subscriber fetches the chunks of the newest manifest *of that batch*
  (``signal_pull``): a subscriber far behind needs an old manifest's chunks, and which one depends on where it
  stands. Until a pull can skip ahead, every stored manifest of an open signal stays servable.
- **File sends: nothing after they end.** The sender reads chunks from its file; the receiver stores the chunks it
  lacks and assembles the file in the same session, so only an in-flight receive relies on the store, and the
  grace period covers it (an interrupted send's chunks serve a retry within the grace period, and go after).
- ``dream stats`` and the console only count the store.

Race safety: a transfer stores chunks before any record names them, and relies on chunks it found present before
it writes files. So a chunk stored or found present (``ChunkStore.put`` and ``missing`` reset its mtime) less than
the grace period ago is never removed, and the mark happens before the store is listed: anything named after the
mark began was stored or freshened after it, and is young. Each removal re-checks the mtime first; files that
vanish meanwhile are skipped, so two runs at once, or a run after a crash, do no harm. A transfer round longer than
the grace period that straddles a run can lose its oldest chunks: its session ends (the files stay as they were,
as after any failed round) and the retry fetches only those again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from mesh.models import Portal, Signal
from mesh.services import publish_on_commit
from mesh.sync.chunks import DIGEST_HEX, TMP_PREFIX, ChunkStore
from mesh.sync.durable import TMP_PREFIX as DURABLE_TMP_PREFIX
from mesh.sync.durable import write_atomic
from mesh.sync.folder import Index, SyncError
from mesh.sync.portals import chunk_store, index_path, sync_home
from mesh.sync.signals import signal_state_dir

logger = logging.getLogger(__name__)
LAST_RUN_FILE = "gc.json"  # DREAMNET_HOME/sync/gc.json: the last run's result, for the console
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class GcResult:
    """What one run found and did. ``kept`` = ``live`` + ``young``; a dry run reports what it would remove."""

    kept: int
    live: int
    young: int
    removed: int
    bytes_freed: int
    bytes_kept: int
    temp_removed: int
    grace_s: int
    dry_run: bool
    started_at: str
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chunks_live() -> set[str]:
    """Every digest a live thing names (see the module docstring); SyncError ``gc_mark_failed`` if any index or
    manifest cannot be read, since a sweep after an incomplete mark would remove chunks still in use."""
    live: set[str] = set()
    for portal in Portal.objects.filter(state=Portal.State.OPEN):
        _mark_index(live, index_path(portal))
    for signal in Signal.objects.filter(state=Signal.State.OPEN):
        state = signal_state_dir(signal)
        _mark_index(live, state / "index.json")
        for path in sorted((state / "manifests").glob("*.json")):
            _mark_manifest(live, path)
    return live


def _mark_index(live: set[str], path: Path) -> None:
    try:
        index = Index.load(path)  # a missing index (never scanned) is empty
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SyncError(f"{path} cannot be read ({exc!r}); nothing was collected.", code="gc_mark_failed") from exc
    for record in index.live().values():
        live.update(str(d) for d, _n in record.chunks)


def _mark_manifest(live: set[str], path: Path) -> None:
    try:
        files = json.loads(path.read_text())["body"]["files"]
        live.update(str(d) for f in files for d, _n in f["chunks"])
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SyncError(f"{path} cannot be read ({exc!r}); nothing was collected.", code="gc_mark_failed") from exc


def _is_digest(name: str) -> bool:
    return len(name) == DIGEST_HEX and _HEX.issuperset(name)


def _remove_if_old(path: Path, cutoff: float, *, dry_run: bool) -> int | None:
    """Remove ``path`` if it is still older than ``cutoff``; return the bytes freed, or None when it was kept
    (freshened meanwhile) or is gone (another run removed it)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if st.st_mtime >= cutoff:
        return None
    if not dry_run:
        try:
            path.unlink()
        except FileNotFoundError:
            return None
    return st.st_size


def chunks_gc(*, grace_s: int | None = None, dry_run: bool = False, store: ChunkStore | None = None) -> GcResult:
    """Remove the chunks no open portal or signal names and that are older than ``grace_s`` (default
    ``DREAMNET_SYNC_GC_GRACE_S``), and temp files of interrupted writes as old; return what it did.

    Locks nothing (see the module docstring for why that is safe). Unless ``dry_run``, saves the result for the
    console (DREAMNET_HOME/sync/gc.json), logs it, and publishes ``sync.gc`` when something was removed. Raises
    SyncError ``gc_mark_failed``, having removed nothing, when the live set cannot be read whole.
    """
    grace = settings.SYNC_GC_GRACE_S if grace_s is None else int(grace_s)
    store = store or chunk_store()
    started, clock = time.time(), time.monotonic()
    live = chunks_live()  # before the listing: a chunk named after this point was stored or freshened after it
    cutoff = started - grace
    n_live = young = removed = freed = kept_bytes = temp_removed = 0
    for current, _dirs, names in os.walk(store.root):
        for name in names:
            path = Path(current) / name
            if name.startswith((TMP_PREFIX, DURABLE_TMP_PREFIX)):
                size = _remove_if_old(path, cutoff, dry_run=dry_run)
                if size is not None:
                    temp_removed += 1
                    freed += size
                continue
            if not _is_digest(name):
                continue  # not the store's: left alone
            if name in live:
                n_live += 1
                kept_bytes += _size(path)
                continue
            size = _remove_if_old(path, cutoff, dry_run=dry_run)
            if size is None:
                young += 1
                kept_bytes += _size(path)
            else:
                removed += 1
                freed += size
    result = GcResult(
        kept=n_live + young, live=n_live, young=young, removed=removed, bytes_freed=freed, bytes_kept=kept_bytes,
        temp_removed=temp_removed, grace_s=grace, dry_run=dry_run,
        started_at=datetime.fromtimestamp(started, tz=UTC).isoformat(),
        duration_s=round(time.monotonic() - clock, 3),
    )  # fmt: skip
    logger.info("chunk store gc%s: %s %d chunks (%d bytes) and %d temp files; kept %d (%d live, %d younger than "
                "%d s, %d bytes) in %.3f s", " (dry run)" if dry_run else "", "would remove" if dry_run else "removed",
                removed, freed, temp_removed, result.kept, n_live, young, grace, kept_bytes, result.duration_s)  # fmt: skip
    if not dry_run:
        path = sync_home() / LAST_RUN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(result.as_dict()).encode())
        if removed or temp_removed:
            publish_on_commit("sync.gc", {"removed": removed, "temp_removed": temp_removed, "bytes_freed": freed,
                                          "kept": result.kept, "duration_s": result.duration_s})  # fmt: skip
    return result


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except FileNotFoundError:
        return 0


def gc_last() -> dict[str, Any] | None:
    """The last (not dry) run's result as saved, with ``at`` (its start as a datetime), or None when the store was
    never collected here."""
    try:
        last = json.loads((sync_home() / LAST_RUN_FILE).read_text())
        return last | {"at": datetime.fromisoformat(last["started_at"])}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
