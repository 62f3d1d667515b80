"""File sends: one file to a pinned peer over the channel, landing in its inbox (DREAMNET_HOME/inbox/<sender>/).

The sender announces the file's manifest (name, size, chunk list); the receiver asks for the chunks its store
lacks; the sender reads each chunk from the file and checks it against the announced digest (a file changing
while it is read ends the send with ``source_changed``); the receiver verifies every chunk, assembles the file
in a temp file and renames it into the inbox, then both issue a receipt naming the same manifest digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websockets
from channels.db import database_sync_to_async
from django.conf import settings

from mesh.models import Peer
from mesh.sync.channel import ChannelError, connect
from mesh.sync.chunks import ChunkCorrupt, chunks_of_file, digest_of
from mesh.sync.durable import replacing
from mesh.sync.folder import SyncError, check_path
from mesh.sync.peering import authorize, channel_identity, ws_url
from mesh.sync.portals import chunk_store, peer_public_key, transfer_record
from mesh.sync.protocol import decode_json, encode_json
from mesh.sync.transport import websocket_transport

MAX_SEND_BYTES = 16 * 1024**3


def send_manifest(name: str, size: int, chunks: list[list[Any]]) -> str:
    return digest_of(json.dumps({"name": name, "size": size, "chunks": chunks}, separators=(",", ":")).encode())


async def file_send(*, path: Path, peer: Peer, on_progress: Callable[[int, int], None] | None = None,
                    url: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Send ``path`` to ``peer``; return the transfer (manifest, chunks, bytes). Raises SyncError/ChannelError."""
    chunks = await asyncio.to_thread(chunks_of_file, path)
    chunk_list = [[c.digest, c.length] for c in chunks]
    size = sum(c.length for c in chunks)
    manifest = send_manifest(path.name, size, chunk_list)
    offsets = {c.digest: (c.offset, c.length) for c in chunks}
    async with websockets.connect(url or ws_url(peer.url), open_timeout=10, max_size=2**20, compression=None) as ws:
        send, recv = websocket_transport(ws)
        session = await connect(send, recv, identity=channel_identity(), expect_peer=peer_public_key(peer),
                                authorize=authorize)  # fmt: skip
        await session.send(encode_json({"t": "hello", "kind": "send", "name": path.name, "size": size,
                                        "chunks": chunk_list}))  # fmt: skip
        reply = decode_json(await session.recv())
        if reply["t"] == "error":
            raise SyncError(f"The peer refused the file: {reply.get('detail', '')}", code=str(reply.get("code")))
        wanted = [str(d) for d in reply.get("digests", [])]
        total = sum(offsets[d][1] for d in wanted if d in offsets)
        done = 0
        with open(path, "rb") as f:
            for d in wanted:
                if d not in offsets:
                    raise SyncError("The peer asked for a chunk the file does not have.", code="bad_frame")
                offset, length = offsets[d]
                f.seek(offset)
                data = f.read(length)
                if digest_of(data) != d:
                    await session.send(encode_json({"t": "error", "code": "source_changed",
                                                    "detail": "the file changed while it was sent"}))  # fmt: skip
                    raise SyncError(f"{path.name} changed while it was read; send it again.", code="source_changed")
                await session.send(b"C" + bytes.fromhex(d) + data)
                done += len(data)
                if on_progress is not None:
                    on_progress(done, total)
        result = decode_json(await session.recv())
        if result["t"] == "error":
            raise SyncError(f"The peer did not keep the file: {result.get('detail', '')}", code=str(result["code"]))
        if result.get("manifest") != manifest:
            raise SyncError("The peer acknowledged a different manifest.", code="manifest_mismatch")
        await session.close()
    out = {"manifest": manifest, "files": 1, "chunks": int(result["chunks"]), "bytes": int(result["bytes"]),
           "path": result.get("path", "")}  # fmt: skip
    await database_sync_to_async(transfer_record)(
        kind="send", direction="out", peer_key=peer_public_key(peer), manifest=manifest, files=1,
        chunks=out["chunks"], bytes_moved=out["bytes"], subject=f"send {path.name}"[:200],
    )  # fmt: skip
    return out


def inbox_target(sender: bytes, name: str) -> Path:
    folder = Path(settings.DREAMNET_HOME) / "inbox" / sender.hex()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


async def file_receive(session: Any, hello: dict[str, Any]) -> None:
    """Answer a send: fetch the missing chunks (verified), write the file into the inbox atomically, acknowledge."""
    try:
        name = check_path(str(hello.get("name", "")))
        if "/" in name:
            raise SyncError("A sent file's name may not contain '/'.", code="path_traversal")
        size = int(hello["size"])
        chunk_list = [[str(d), int(n)] for d, n in hello["chunks"]]
        if not 0 <= size <= MAX_SEND_BYTES or sum(n for _d, n in chunk_list) != size:
            raise SyncError("The file's size does not match its chunks.", code="bad_record")
    except SyncError as exc:
        await session.send(encode_json({"t": "error", "code": exc.code, "detail": str(exc)}))
        return
    except (KeyError, TypeError, ValueError):
        await session.send(encode_json({"t": "error", "code": "bad_record", "detail": "malformed send"}))
        return
    store = chunk_store()
    missing = store.missing(d for d, _n in chunk_list)
    await session.send(encode_json({"t": "want", "digests": missing}))
    moved = 0
    try:
        for d in missing:
            frame = await session.recv()
            if frame[:1] != b"C":
                message = decode_json(frame)
                raise SyncError(f"The sender stopped: {message.get('detail', '')}", code=str(message.get("code")))
            if frame[1:33].hex() != d:
                raise SyncError("The sender sent a chunk out of order.", code="bad_frame")
            try:
                await asyncio.to_thread(store.put, frame[33:], digest=d)
            except ChunkCorrupt as exc:
                raise SyncError(str(exc), code="tampered_chunk") from exc
            moved += len(frame) - 33
        target = inbox_target(bytes(session.peer_key), name)
        await asyncio.to_thread(_assemble, target, [d for d, _n in chunk_list], store)
    except SyncError as exc:
        await session.send(encode_json({"t": "error", "code": exc.code, "detail": str(exc)}))
        raise
    except OSError as exc:
        code = "disk_full" if exc.errno == 28 else "write_failed"
        await session.send(encode_json({"t": "error", "code": code, "detail": str(exc)}))
        raise SyncError(f"The file could not be written: {exc}", code=code) from exc
    manifest = send_manifest(name, size, chunk_list)
    await database_sync_to_async(transfer_record)(
        kind="send", direction="in", peer_key=bytes(session.peer_key), manifest=manifest, files=1,
        chunks=len(missing), bytes_moved=moved, subject=f"receive {name}"[:200],
    )  # fmt: skip
    await session.send(encode_json({"t": "received", "manifest": manifest, "chunks": len(missing), "bytes": moved,
                                    "path": str(target)}))  # fmt: skip
    with contextlib.suppress(ChannelError):
        await session.recv()  # the sender's close


def _assemble(target: Path, digests: list[str], store) -> None:
    with replacing(target) as f:
        for d in digests:
            f.write(store.get(d))
