"""Chunk store garbage collection: what a live portal or signal names stays, old garbage goes, young chunks stay."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from django.apps import apps
from typer.testing import CliRunner

from dreamnet.cli import app
from mesh.models import Event, Portal, Signal
from mesh.sync.chunks import ChunkStore
from mesh.sync.folder import Index, SyncError, scan
from mesh.sync.gc import chunks_gc
from mesh.sync.portals import chunk_store, index_path, portal_close, portal_open
from mesh.sync.signals import signal_open, signal_publish

pytestmark = pytest.mark.django_db

GRACE = 3600


def _age(store: ChunkStore, *, seconds: float = 2 * GRACE) -> None:
    """Make every file in the store look stored ``seconds`` ago."""
    then = time.time() - seconds
    for current, _dirs, names in os.walk(store.root):
        for name in names:
            os.utime(Path(current) / name, (then, then))


def _digests(index: Index) -> set[str]:
    return {d for r in index.live().values() for d, _n in r.chunks}


def _portal_with(folder: Path, content: bytes) -> tuple[Portal, Index]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.txt").write_bytes(content)
    portal = portal_open(path=folder, name="plans")
    index = Index.load(index_path(portal))
    scan(folder, index, node="a", store=chunk_store())
    index.save()
    return portal, index


def _rescan(portal: Portal, content: bytes) -> Index:
    folder = Path(portal.path)
    (folder / "plan.txt").write_bytes(content)
    index = Index.load(index_path(portal))
    assert scan(folder, index, node="a", store=chunk_store())
    index.save()
    return index


def test_a_chunk_named_by_a_portal_record_survives(tmp_path):
    _portal, index = _portal_with(tmp_path / "plans", b"first version " * 100)
    store = chunk_store()
    _age(store)
    result = chunks_gc(grace_s=GRACE)
    assert result.removed == 0 and result.live == len(_digests(index)) == 1
    assert all(store.has(d) for d in _digests(index))


def test_an_overwritten_versions_chunks_go_once_older_than_the_grace_period(tmp_path):
    portal, old = _portal_with(tmp_path / "plans", b"first version " * 100)
    new = _rescan(portal, b"second version, longer " * 100)
    store = chunk_store()
    (gone,) = _digests(old) - _digests(new)
    assert chunks_gc(grace_s=GRACE).removed == 0  # the old version's chunk is still young
    _age(store)
    result = chunks_gc(grace_s=GRACE)
    assert result.removed == 1 and result.bytes_freed == 14 * 100 and not store.has(gone)
    assert result.kept == result.live == 1 and all(store.has(d) for d in _digests(new))
    assert chunks_gc(grace_s=GRACE).removed == 0  # idempotent


def test_a_closed_portals_chunks_go(tmp_path):
    portal, index = _portal_with(tmp_path / "plans", b"first version " * 100)
    portal_close(portal=portal)
    _age(chunk_store())
    assert chunks_gc(grace_s=GRACE).removed == 1 and not chunk_store().has(next(iter(_digests(index))))


def test_a_young_unreferenced_chunk_survives():
    store = chunk_store()
    digest = store.put(b"a chunk a transfer stored before any record names it")
    result = chunks_gc(grace_s=GRACE)
    assert result.removed == 0 and result.young == 1 and store.has(digest)


def test_an_old_chunk_a_transfer_finds_present_is_freshened_and_survives():
    store = chunk_store()
    digest = store.put(b"an old version's chunk that an incoming file turns out to share")
    _age(store)
    assert store.missing([digest]) == []  # a receiver relies on it from here on, before any record names it
    assert chunks_gc(grace_s=GRACE).young == 1 and store.has(digest)
    _age(store)
    store.put(b"an old version's chunk that an incoming file turns out to share")  # a scan re-storing it
    assert chunks_gc(grace_s=GRACE).young == 1 and store.has(digest)


def test_old_temp_files_go_and_young_ones_stay():
    store = chunk_store()
    store.put(b"x")
    left = store.root / ".tmp-crashed"
    left.write_bytes(b"half a chunk")
    _age(store)
    writing = store.root / ".tmp-writing"
    writing.write_bytes(b"a chunk being written")
    result = chunks_gc(grace_s=GRACE)
    assert result.temp_removed == 1 and not left.exists() and writing.exists()
    assert result.removed == 1 and result.bytes_freed == 1 + len(b"half a chunk")


def test_a_dry_run_removes_nothing_but_reports_the_same_counts(tmp_path, django_capture_on_commit_callbacks):
    portal, _old = _portal_with(tmp_path / "plans", b"first version " * 100)
    _rescan(portal, b"second version, longer " * 100)
    store = chunk_store()
    store.put(b"orphan")
    _age(store)
    store.put(b"young orphan")
    files = sorted(p for p in store.root.rglob("*") if p.is_file())
    with django_capture_on_commit_callbacks(execute=True):
        dry = chunks_gc(grace_s=GRACE, dry_run=True)
    assert sorted(p for p in store.root.rglob("*") if p.is_file()) == files
    assert dry.dry_run and dry.removed == 2 and not Event.objects.filter(topic="sync.gc").exists()
    real = chunks_gc(grace_s=GRACE)
    fields = ("kept", "live", "young", "removed", "bytes_freed", "bytes_kept", "temp_removed")
    assert {f: getattr(dry, f) for f in fields} == {f: getattr(real, f) for f in fields}


def test_a_run_that_removes_something_publishes_sync_gc_and_is_remembered(settings, django_capture_on_commit_callbacks):
    store = chunk_store()
    store.put(b"orphan")
    _age(store)
    with django_capture_on_commit_callbacks(execute=True):
        result = chunks_gc(grace_s=GRACE)
    event = Event.objects.get(topic="sync.gc")
    assert event.payload["removed"] == 1 and event.payload["bytes_freed"] == 6
    saved = json.loads((settings.DREAMNET_HOME / "sync" / "gc.json").read_text())
    assert saved["removed"] == 1 and saved["started_at"] == result.started_at
    with django_capture_on_commit_callbacks(execute=True):
        chunks_gc(grace_s=GRACE)
    assert Event.objects.filter(topic="sync.gc").count() == 1  # nothing removed: no event


def test_a_signals_manifests_stay_servable(tmp_path):
    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "news.txt").write_bytes(b"monday's news " * 100)
    signal = signal_open(path=folder, name="news")
    first = {d for f in _manifest(signal, 1)["files"] for d, _n in f["chunks"]}
    (folder / "news.txt").write_bytes(b"tuesday's news, longer " * 100)
    assert signal_publish(signal=signal)
    latest = {d for f in _manifest(signal, 2)["files"] for d, _n in f["chunks"]}
    store = chunk_store()
    _age(store)
    result = chunks_gc(grace_s=GRACE)
    # A subscriber behind is sent a batch of manifests and fetches the chunks of the batch's newest, which may be
    # an older manifest than the latest: every stored manifest of an open signal stays servable.
    assert result.removed == 0 and all(store.has(d) for d in first | latest) and first != latest
    Signal.objects.filter(pk=signal.pk).update(state=Signal.State.CLOSED)
    assert chunks_gc(grace_s=GRACE).removed == 2 and not any(store.has(d) for d in first | latest)


def _manifest(signal: Signal, seq: int) -> dict:
    from mesh.sync.signals import signal_state_dir

    return json.loads((signal_state_dir(signal) / "manifests" / f"{seq:010d}.json").read_text())["body"]


def test_an_unreadable_index_stops_the_run_before_anything_is_removed(tmp_path):
    portal, _index = _portal_with(tmp_path / "plans", b"first version " * 100)
    store = chunk_store()
    orphan = store.put(b"orphan")
    _age(store)
    index_path(portal).write_text("{not json")
    with pytest.raises(SyncError) as caught:
        chunks_gc(grace_s=GRACE)
    assert caught.value.code == "gc_mark_failed" and store.has(orphan)


def test_the_grace_period_comes_from_the_setting(settings):
    settings.SYNC_GC_GRACE_S = 10 * GRACE
    store = chunk_store()
    digest = store.put(b"orphan")
    _age(store)  # two hours: younger than ten
    assert chunks_gc().grace_s == 10 * GRACE and store.has(digest)


def test_dream_gc_prints_json_and_a_dry_run_keeps_everything():
    store = chunk_store()
    digest = store.put(b"orphan")
    _age(store)
    runner = CliRunner()
    dry = runner.invoke(app, ["gc", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["removed"] == 1 and report["bytes_freed"] == 6 and store.has(digest)
    assert {"kept", "removed", "bytes_freed", "duration_s"} <= report.keys()
    real = runner.invoke(app, ["gc", "--json"])
    assert real.exit_code == 0 and json.loads(real.stdout)["removed"] == 1 and not store.has(digest)
    text = runner.invoke(app, ["gc"])
    assert text.exit_code == 0 and text.stdout.startswith("removed 0 chunks")


def test_dream_gc_fails_with_one_line_when_the_mark_cannot_be_read(tmp_path):
    portal, _index = _portal_with(tmp_path / "plans", b"first version " * 100)
    index_path(portal).write_text("{not json")
    result = CliRunner().invoke(app, ["gc"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: gc_mark_failed:") and len(result.stderr.strip().splitlines()) == 1


def test_serve_setup_schedules_the_daily_gc():
    from django_q.models import Schedule

    from mesh.tasks import GC_SCHEDULE

    apps.get_app_config("mesh").serve_setup(io.StringIO())
    apps.get_app_config("mesh").serve_setup(io.StringIO())
    schedule = Schedule.objects.get(name=GC_SCHEDULE)
    assert schedule.func == "mesh.tasks.chunks_gc_task" and schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1 and (schedule.next_run.hour, schedule.next_run.minute) == (4, 0)


def test_the_console_shows_the_store_after_a_gc(client, olivia):
    client.force_login(olivia)
    assert "not cleaned up yet" in client.get("/console/sync/").content.decode()
    store = chunk_store()
    store.put(b"orphan")
    _age(store)
    store.put(b"young")
    chunks_gc(grace_s=GRACE)
    page = client.get("/console/sync/").content.decode()
    assert "1 chunk, 5\xa0bytes after the last clean-up" in page and "which removed 1 (6\xa0bytes)" in page
