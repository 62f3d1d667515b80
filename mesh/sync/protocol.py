"""The portal exchange over an open channel session: indexes, updates, chunk requests, acknowledgements.

Both ends run the same ``PortalLink`` once the channel is up and the portal key is proven. Frames (each one
channel message, so encrypted and authenticated by the channel):

- ``J`` + JSON: ``{"t": "update", "seq", "files": [records]}`` (the first is the full index),
  ``{"t": "want", "seq", "digests": [...]}``, ``{"t": "applied", "seq", "manifest", "files", "chunks", "bytes",
  "conflicts"}``, ``{"t": "error", "code", "detail"}``.
- ``C`` + 32-byte digest + chunk bytes: one chunk answering a ``want``; the receiver checks its BLAKE3 digest
  before storing it, so a chunk altered by the peer (or a relay) is refused and the session ends.

A receiver fetches the chunks a round needs into its chunk store first and only then writes files (each
atomically), so a session that dies mid-round leaves every file either as it was or fully new. Every round that
changed a file ends with ``applied``, on which both ends call ``on_round`` (the Django side issues the receipts).
No Django import.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mesh.sync.chunks import ChunkCorrupt, ChunkStore
from mesh.sync.durable import fsync_path
from mesh.sync.folder import (
    IO_POOL,
    FileRecord,
    Ignore,
    Index,
    SyncError,
    decide,
    manifest_digest,
    materialize,
    move_aside,
    scan,
)

logger = logging.getLogger(__name__)

BATCH_RECORDS = 500  # records per update message
WANT_BATCH = 64  # digests per want message
MAX_JSON = 8 * 1024 * 1024


class Session(Protocol):
    async def send(self, data: bytes) -> None: ...
    async def recv(self) -> bytes: ...
    async def close(self) -> None: ...


@dataclass
class Round:
    """One applied update as both ends record it."""

    seq: int
    role: str  # 'receiver' or 'sender'
    manifest: str
    files: int
    chunks: int
    bytes: int
    conflicts: int


RoundHook = Callable[[Round], Awaitable[None]]
ProgressHook = Callable[[int, int], Awaitable[None]]


def encode_json(message: dict[str, Any]) -> bytes:
    return b"J" + json.dumps(message, separators=(",", ":")).encode()


def decode_json(frame: bytes) -> dict[str, Any]:
    if not frame[:1] == b"J" or len(frame) > MAX_JSON:
        raise SyncError("The peer sent a frame that is not a sync message.", code="bad_frame")
    try:
        message = json.loads(frame[1:])
    except ValueError as exc:
        raise SyncError("The peer sent a message that is not JSON.", code="bad_frame") from exc
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise SyncError("The peer sent a message without a type.", code="bad_frame")
    return message


class PortalLink:
    """Keep ``root`` equal with the peer's copy over ``session`` until the session ends (then raise why)."""

    def __init__(self, session: Session, *, root: Path, index_path: Path, store: ChunkStore, node: str,
                 on_round: RoundHook | None = None, on_progress: ProgressHook | None = None,
                 scan_interval: float = 1.0) -> None:  # fmt: skip
        self.session = session
        self.root = root
        self.index = Index.load(index_path)
        self.store = store
        self.node = node
        self.on_round = on_round
        self.on_progress = on_progress
        self.scan_interval = scan_interval
        self.lock = asyncio.Lock()
        self.seq = 0
        self.sent: dict[int, tuple[str, int, int]] = {}  # seq -> (manifest, chunks served, bytes served)
        self.waiting: dict[str, asyncio.Future[bytes]] = {}
        self.updates: asyncio.Queue[tuple[int, list[FileRecord]]] = asyncio.Queue()
        self.send_lock = asyncio.Lock()
        self.serving: set[asyncio.Task] = set()

    async def run(self) -> None:
        """Exchange indexes, then scan and apply until the session closes or fails (the exception propagates)."""
        self.root.mkdir(parents=True, exist_ok=True)
        async with self.lock:
            await asyncio.to_thread(self._scan)
            full = list(self.index.records.values())
        await self._send_records(full)
        tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._applier()),
                 asyncio.create_task(self._scanner())]  # fmt: skip
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            for fut in self.waiting.values():
                if not fut.done():
                    fut.cancel()

    # Sending ---------------------------------------------------------------------------------------------------

    async def _send(self, frame: bytes) -> None:
        async with self.send_lock:
            await self.session.send(frame)

    async def _send_records(self, records: list[FileRecord]) -> None:
        for start in range(0, max(len(records), 1), BATCH_RECORDS):
            batch = records[start : start + BATCH_RECORDS]
            self.seq += 1
            self.sent[self.seq] = (manifest_digest(batch), 0, 0)
            await self._send(encode_json({"t": "update", "seq": self.seq, "files": [r.wire() for r in batch]}))

    def _scan(self) -> list[FileRecord]:
        changed = scan(self.root, self.index, node=self.node, store=self.store)
        if changed:
            self.index.save()
        return changed

    async def _scanner(self) -> None:
        while True:
            await asyncio.sleep(self.scan_interval)
            async with self.lock:
                changed = await asyncio.to_thread(self._scan)
            if changed:
                await self._send_records(changed)

    # Receiving -------------------------------------------------------------------------------------------------

    async def _reader(self) -> None:
        while True:
            frame = await self.session.recv()
            if frame[:1] == b"C":
                self._chunk_arrived(frame)
                continue
            message = decode_json(frame)
            kind = message["t"]
            if kind == "update":
                records = [FileRecord.from_wire(r) for r in message.get("files", [])]
                await self.updates.put((int(message["seq"]), records))
            elif kind == "want":
                task = asyncio.create_task(self._serve(int(message["seq"]), [str(d) for d in message["digests"]]))
                self.serving.add(task)
                task.add_done_callback(self.serving.discard)
            elif kind == "applied":
                await self._applied(message)
            elif kind == "error":
                raise SyncError(f"The peer ended the sync: {message.get('detail', '')}", code=str(message["code"]))
            else:
                raise SyncError(f"The peer sent an unknown message type {kind!r}.", code="bad_frame")

    def _chunk_arrived(self, frame: bytes) -> None:
        if len(frame) < 33:
            raise SyncError("The peer sent a truncated chunk frame.", code="bad_frame")
        digest = frame[1:33].hex()
        fut = self.waiting.get(digest)
        if fut is None or fut.done():
            raise SyncError(f"The peer sent chunk {digest[:16]}… that was not asked for.", code="bad_frame")
        fut.set_result(frame[33:])

    async def _serve(self, seq: int, digests: list[str]) -> None:
        served = bytes_out = 0
        for d in digests:
            try:
                data = await asyncio.to_thread(self.store.get, d)
            except (FileNotFoundError, ChunkCorrupt, ValueError):
                await self._send(encode_json({"t": "error", "code": "chunk_unavailable",
                                              "detail": f"chunk {d[:16]}… is not available here"}))  # fmt: skip
                return
            await self._send(b"C" + bytes.fromhex(d) + data)
            served += 1
            bytes_out += len(data)
        manifest, chunks, total = self.sent.get(seq, ("", 0, 0))
        self.sent[seq] = (manifest, chunks + served, total + bytes_out)

    async def _applied(self, message: dict[str, Any]) -> None:
        seq = int(message["seq"])
        manifest, _chunks, _bytes = self.sent.pop(seq, ("", 0, 0))
        if message.get("manifest") != manifest:
            raise SyncError(f"The peer acknowledged round {seq} with a different manifest.", code="manifest_mismatch")
        if int(message.get("files", 0)) and self.on_round is not None:
            await self.on_round(Round(seq, "sender", manifest, int(message["files"]), int(message["chunks"]),
                                      int(message["bytes"]), int(message.get("conflicts", 0))))  # fmt: skip

    async def _applier(self) -> None:
        while True:
            seq, records = await self.updates.get()
            result = await self._apply(seq, records)
            await self._send(encode_json({"t": "applied", "seq": seq, **result}))
            if result["files"] and self.on_round is not None:
                await self.on_round(Round(seq, "receiver", result["manifest"], result["files"], result["chunks"],
                                          result["bytes"], result["conflicts"]))  # fmt: skip

    async def _fetch(self, seq: int, digests: list[str], expected: int) -> tuple[int, int]:
        """Fetch ``digests`` (``expected`` bytes in all) into the chunk store, verified; return (chunks, bytes)."""
        total_bytes = 0
        for start in range(0, len(digests), WANT_BATCH):
            batch = digests[start : start + WANT_BATCH]
            loop = asyncio.get_running_loop()
            futures = {d: loop.create_future() for d in batch}
            self.waiting.update(futures)
            await self._send(encode_json({"t": "want", "seq": seq, "digests": batch}))
            puts = []
            for d, fut in futures.items():
                data = await fut
                del self.waiting[d]
                puts.append(loop.run_in_executor(IO_POOL, functools.partial(self.store.put, data, digest=d)))
                total_bytes += len(data)
                if self.on_progress is not None:
                    await self.on_progress(total_bytes, expected)
            results = await asyncio.gather(*puts, return_exceptions=True)  # every write ends before a failure counts
            for exc in results:
                if isinstance(exc, ChunkCorrupt):
                    raise SyncError(str(exc), code="tampered_chunk") from exc
                if isinstance(exc, OSError) and exc.errno == 28:
                    raise SyncError("The disk is full; the round was stopped.", code="disk_full") from exc
                if isinstance(exc, BaseException):
                    raise exc
        return len(digests), total_bytes

    async def _take(self, merged: FileRecord, local: FileRecord | None) -> FileRecord | None:
        """Write one file (or delete it) to match ``merged``; None when it changed here meanwhile (kept)."""
        call = functools.partial(materialize, self.root, merged, self.store, expect_local=local, sync_dir=False)
        try:
            merged.local_stat = await asyncio.get_running_loop().run_in_executor(IO_POOL, call)
        except SyncError as exc:
            if exc.code != "local_changed":
                raise
            logger.info("portal: %s", exc)
            return None
        return merged

    async def _apply(self, seq: int, records: list[FileRecord]) -> dict[str, Any]:
        manifest = manifest_digest(records)
        ignore = Ignore.of_folder(self.root)
        records = [r for r in records if not ignore.ignored(r.path)]  # ignored here: neither written nor deleted
        async with self.lock:
            wanted = [r for r in records if decide(self.index.records.get(r.path), r, node=self.node).action != "skip"]
        need = self.store.missing(d for r in wanted if not r.deleted for d, _n in r.chunks)
        lengths = {d: n for r in wanted for d, n in r.chunks}
        chunks, moved = await self._fetch(seq, need, sum(lengths[d] for d in need)) if need else (0, 0)
        files = conflicts = 0
        outgoing: list[FileRecord] = []
        takes: list[tuple[FileRecord, FileRecord | None]] = []
        async with self.lock:
            for remote in records:
                local = self.index.records.get(remote.path)
                decision = decide(local, remote, node=self.node)
                try:
                    if decision.action == "skip":
                        if decision.merged is not None:
                            self.index.records[remote.path] = decision.merged
                            if decision.merged.modified_by == self.node and decision.merged is not local:
                                outgoing.append(decision.merged)
                        continue
                    if decision.action == "conflict":
                        conflicts += 1
                        if decision.conflict_from == "local":
                            await asyncio.to_thread(move_aside, self.root, remote.path, decision.conflict_path)
                            local = None
                        else:
                            aside = FileRecord(**{**remote.__dict__, "path": decision.conflict_path})
                            await asyncio.to_thread(materialize, self.root, aside, self.store,
                                                    expect_local=self.index.records.get(decision.conflict_path))  # fmt: skip
                            self.index.records[remote.path] = decision.merged
                            outgoing.append(decision.merged)
                            files += 1
                            continue
                    takes.append((decision.merged, local))
                except SyncError as exc:
                    if exc.code != "local_changed":
                        raise
                    logger.info("portal: %s", exc)  # the next scan records the local edit; resolved from records
            written = await asyncio.gather(*(self._take(merged, local) for merged, local in takes))
            for merged in written:
                if merged is not None:
                    self.index.records[merged.path] = merged
                    files += 1
            folders = {(self.root / m.path).parent for m in written if m is not None}
            await asyncio.gather(*(asyncio.get_running_loop().run_in_executor(IO_POOL, fsync_path, f) for f in folders))
            await asyncio.to_thread(self.index.save)
        if outgoing:
            await self._send_records(outgoing)
        return {"manifest": manifest, "files": files, "chunks": chunks, "bytes": moved, "conflicts": conflicts}
