"""Signals: one-way broadcast of a folder as a signed manifest series; subscribers verify, keep and relay it.

The publisher's sync loop scans the folder every second and, when it changed, signs manifest ``n + 1`` naming
manifest ``n``'s digest (``mesh.sync.manifests``). A subscriber pulls from its source peer (the publisher or any
node holding a copy): ``{"t": "hello", "kind": "signal", "signal", "have"}`` is answered with the manifests after
``have``; the subscriber verifies each against the publisher key from the signal key, asks for the chunks it
lacks, verifies them by digest, writes the files of the newest manifest atomically, stores the manifests (so it can
serve them on), and both ends issue a receipt naming the newest manifest's digest, chunk count and bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

import websockets
from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mesh.identity import node_identity
from mesh.models import Peer, Signal
from mesh.services import publish_on_commit
from mesh.sync.channel import connect
from mesh.sync.chunks import ChunkCorrupt
from mesh.sync.durable import write_atomic
from mesh.sync.folder import FileRecord, Index, SyncError, materialize, scan
from mesh.sync.manifests import manifest_build, manifest_records, manifest_sign, manifest_verify
from mesh.sync.peering import authorize, channel_identity, ws_url
from mesh.sync.portals import SyncRefused, chunk_store, folder_check, peer_public_key, sync_home, transfer_record
from mesh.sync.protocol import WANT_BATCH, decode_json, encode_json
from mesh.sync.transport import websocket_transport

logger = logging.getLogger(__name__)
KEY_PREFIX = "dnsignal1"
_KEY_RE = re.compile(rf"{KEY_PREFIX}\.([0-9a-f]{{32}})\.([0-9a-f]{{64}})")
MAX_MANIFESTS_PER_PULL = 200


def signal_key(signal: Signal) -> str:
    return f"{KEY_PREFIX}.{signal.signal_id}.{signal.publisher_key}"


def signal_state_dir(signal: Signal) -> Path:
    """The signal's index and stored manifests (``manifests/<seq>.json``) under DREAMNET_HOME/sync/signals/."""
    return sync_home() / "signals" / signal.signal_id


def _manifest_path(signal: Signal, seq: int) -> Path:
    return signal_state_dir(signal) / "manifests" / f"{seq:010d}.json"


def manifests_after(signal: Signal, have: int) -> list[dict[str, Any]]:
    """Stored signed manifests after ``have`` (at most MAX_MANIFESTS_PER_PULL, oldest first)."""
    out = []
    for seq in range(max(have, 0) + 1, signal.last_seq + 1):
        path = _manifest_path(signal, seq)
        if path.exists():
            out.append(json.loads(path.read_text()))
        if len(out) >= MAX_MANIFESTS_PER_PULL:
            break
    return out


def _store_manifest(signal: Signal, signed: dict[str, Any]) -> None:
    path = _manifest_path(signal, signed["body"]["seq"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(signed, separators=(",", ":")).encode())


# Writes -------------------------------------------------------------------------------------------------------


def signal_open(*, path: str | Path, name: str) -> Signal:
    """Publish the folder at ``path`` as signal ``name``; its first manifest is signed at once."""
    name = (name or "").strip()
    if not re.fullmatch(r"[\w.-]{1,100}", name):
        raise SyncRefused("A signal name is 1-100 letters, digits, '.', '-' or '_'.", code="bad_name")
    folder = folder_check(path)
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        signal = Signal.objects.create(signal_id=secrets.token_hex(16), name=name, path=str(folder),
                                       role=Signal.Role.PUBLISHER,
                                       publisher_key=node_identity().signer.public_key.hex())  # fmt: skip
        publish_on_commit("sync.signal_opened", {"signal": signal.signal_id, "name": name, "role": "publisher"})
    signal_publish(signal=signal)
    signal.refresh_from_db()
    return signal


def signal_join(*, key: str, peer: Peer, path: str | Path | None = None) -> Signal:
    """Subscribe to the signal of ``key`` through ``peer`` (the publisher or any node that holds a copy)."""
    match = _KEY_RE.fullmatch((key or "").strip())
    if match is None:
        raise SyncRefused(
            f"That is not a signal key; it looks like {KEY_PREFIX}.<32 hex>.<64 hex>.", code="bad_signal_key"
        )
    signal_id, publisher_key = match.groups()
    if Signal.objects.filter(signal_id=signal_id).exists():
        raise SyncRefused("This node already has that signal.", code="signal_exists", status=409)
    if peer.state == Peer.State.QUARANTINED:
        raise SyncRefused(f"{peer.origin} is quarantined; lift the quarantine first.", code="peer_quarantined")
    folder = folder_check(path or sync_home().parent.parent / "signals" / signal_id[:12])
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        signal = Signal.objects.create(signal_id=signal_id, name=signal_id[:12], path=str(folder),
                                       role=Signal.Role.SUBSCRIBER, publisher_key=publisher_key, source=peer)  # fmt: skip
        publish_on_commit("sync.signal_opened", {"signal": signal_id, "role": "subscriber"})
    return signal


def signal_publish(*, signal: Signal) -> bool:
    """Scan the publisher's folder; sign and store the next manifest if anything changed. Return whether it did."""
    index = Index.load(signal_state_dir(signal) / "index.json")
    changed = scan(Path(signal.path), index, node=node_identity().node_id, store=chunk_store())
    if not changed and signal.last_seq:
        return False
    seq = signal.last_seq + 1
    body = manifest_build(signal=signal.signal_id, name=signal.name, seq=seq, prev=signal.last_digest,
                          created_at=timezone.now().isoformat(), records=list(index.records.values()))  # fmt: skip
    signed = manifest_sign(body, node_identity().signing_key)
    _store_manifest(signal, signed)
    index.save()
    Signal.objects.filter(pk=signal.pk).update(last_seq=seq, last_digest=signed["digest"], last_sync_at=timezone.now())
    signal.last_seq, signal.last_digest = seq, signed["digest"]
    return True


# Serving (publisher or relay) ------------------------------------------------------------------------------------


async def signal_serve(session: Any, hello: dict[str, Any]) -> None:
    """Answer a subscriber: manifests after ``have``, then chunks on request, then both receipts."""
    signal = await database_sync_to_async(Signal.objects.filter(signal_id=str(hello.get("signal")),
                                                                state=Signal.State.OPEN).first)()  # fmt: skip
    if signal is None:
        await session.send(encode_json({"t": "error", "code": "unknown_signal", "detail": "No such signal here."}))
        return
    if signal.role == Signal.Role.PUBLISHER:  # a pull is also a cue to publish (no wait for the loop's next scan)
        await database_sync_to_async(signal_publish)(signal=signal)
    items = await asyncio.to_thread(manifests_after, signal, int(hello.get("have", 0)))
    await session.send(encode_json({"t": "manifests", "items": items}))
    store = chunk_store()
    while True:
        frame = await session.recv()
        message = decode_json(frame)
        if message["t"] == "want":
            for d in [str(x) for x in message["digests"]][:WANT_BATCH]:
                try:
                    data = await asyncio.to_thread(store.get, d)
                except (FileNotFoundError, ChunkCorrupt, ValueError):
                    await session.send(encode_json({"t": "error", "code": "chunk_unavailable", "detail": d}))
                    return
                await session.send(b"C" + bytes.fromhex(d) + data)
        elif message["t"] == "done":
            await database_sync_to_async(_record)(signal, "out", bytes(session.peer_key), message)
            await session.send(encode_json({"t": "bye"}))
            return
        else:
            return


def _record(signal: Signal, direction: str, peer_key: bytes, done: dict[str, Any]) -> None:
    transfer = transfer_record(kind="signal", direction=direction, peer_key=peer_key, manifest=str(done["manifest"]),
                               files=int(done["files"]), chunks=int(done["chunks"]), bytes_moved=int(done["bytes"]),
                               subject=f"signal {signal.signal_id} #{done.get('seq', '')}")  # fmt: skip
    field = "bytes_in" if direction == "in" else "bytes_out"
    Signal.objects.filter(pk=signal.pk).update(**{field: F(field) + int(done["bytes"])}, last_sync_at=timezone.now())
    type(transfer).objects.filter(pk=transfer.pk).update(signal=signal)


# Pulling (subscriber) --------------------------------------------------------------------------------------------


async def signal_pull(signal_pk: int, *, url: str | None = None) -> int:
    """Pull and apply what the source has after our newest manifest; return how many manifests were new."""
    signal = await database_sync_to_async(Signal.objects.select_related("source").get)(pk=signal_pk)
    if signal.source is None:
        raise SyncError("The signal's source peer is gone.", code="unknown_peer")
    async with websockets.connect(
        url or ws_url(signal.source.url), open_timeout=10, max_size=2**20, compression=None
    ) as ws:
        send, recv = websocket_transport(ws)
        session = await connect(send, recv, identity=channel_identity(), expect_peer=peer_public_key(signal.source),
                                authorize=authorize)  # fmt: skip
        await session.send(encode_json({"t": "hello", "kind": "signal", "signal": signal.signal_id,
                                        "have": signal.last_seq}))  # fmt: skip
        reply = decode_json(await session.recv())
        if reply["t"] == "error":
            raise SyncError(f"The source refused: {reply.get('detail', '')}", code=str(reply.get("code")))
        items = reply.get("items", [])
        publisher = bytes.fromhex(signal.publisher_key)
        seq, prev, verified = signal.last_seq, signal.last_digest, []
        for signed in items:
            manifest_verify(signed, publisher_key=publisher, signal=signal.signal_id, seq=seq + 1, prev=prev)
            seq, prev = seq + 1, signed["digest"]
            verified.append(signed)
        if not verified:
            with contextlib.suppress(Exception):
                await session.send(encode_json({"t": "bye"}))
                await session.close()
            return 0
        latest = verified[-1]
        records = manifest_records(latest["body"])
        store = chunk_store()
        need = store.missing(d for r in records for d, _n in r.chunks)
        moved = 0
        for start in range(0, len(need), WANT_BATCH):
            batch = need[start : start + WANT_BATCH]
            await session.send(encode_json({"t": "want", "digests": batch}))
            for d in batch:
                frame = await session.recv()
                if frame[:1] != b"C" or frame[1:33].hex() != d:
                    raise SyncError("The source answered a chunk request with something else.", code="bad_frame")
                try:
                    await asyncio.to_thread(store.put, frame[33:], digest=d)
                except ChunkCorrupt as exc:
                    raise SyncError(str(exc), code="tampered_chunk") from exc
                moved += len(frame) - 33
        files = await asyncio.to_thread(_apply, signal, records)
        for signed in verified:
            await asyncio.to_thread(_store_manifest, signal, signed)
        done = {"t": "done", "manifest": latest["digest"], "seq": seq, "files": files, "chunks": len(need),
                "bytes": moved}  # fmt: skip
        await database_sync_to_async(Signal.objects.filter(pk=signal.pk).update)(last_seq=seq, last_digest=prev,
                                                                                 last_error="")  # fmt: skip
        await database_sync_to_async(_record)(signal, "in", bytes(session.peer_key), done)
        await session.send(encode_json(done))
        with contextlib.suppress(Exception):
            decode_json(await session.recv())
            await session.close()
    return len(verified)


def _apply(signal: Signal, records: list[FileRecord]) -> int:
    """Make the folder match the newest manifest; files edited here meanwhile are kept (and logged)."""
    root = Path(signal.path)
    index = Index.load(signal_state_dir(signal) / "index.json")
    store = chunk_store()
    written = 0
    wanted = {r.path: r for r in records}
    for path, rec in wanted.items():
        local = index.records.get(path)
        if local is not None and local.chunks == rec.chunks and os.path.exists(root / path):
            continue
        try:
            rec.local_stat = materialize(root, rec, store, expect_local=local)
        except SyncError as exc:
            if exc.code != "local_changed":
                raise
            logger.warning("signal %s: %s", signal.signal_id, exc)
            continue
        index.records[path] = rec
        written += 1
    for path in [p for p in index.records if p not in wanted]:
        gone = FileRecord(path, {}, True, 0, 0, [], "")
        try:
            materialize(root, gone, store, expect_local=index.records[path])
        except SyncError as exc:
            logger.warning("signal %s: %s", signal.signal_id, exc)
        del index.records[path]
        written += 1
    index.save()
    return written
