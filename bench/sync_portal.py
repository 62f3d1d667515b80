"""Portal benchmark: a first sync of a folder between two nodes' sync engines, against ``rsync -a`` on one disk.

    .venv/bin/python bench/sync_portal.py [--quick] [--json]

Full: 200 MB in 2,000 files (100 KB each, random bytes, so nothing deduplicates); quick: 20 MB in 200 files.
The portal side is the real data path of two nodes: node A's stat scan, FastCDC chunking and BLAKE3 into its chunk
store, the Noise channel over a loopback websocket (``websockets`` server and client), node B's chunk requests,
digest checks, chunk store and atomic file writes (temp file, fsync, rename), each node with its own folder, chunk
store and index. Both engines run in this process (one event loop), without Django: the per-round receipts (a few
database rows per round) are not timed. Reference, measured in the same run: ``rsync -a src/ dst/`` between two
local folders (no network, no encryption, no fsync per file). With ``--json`` the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402

from mesh.sync.channel import Identity, accept, connect  # noqa: E402
from mesh.sync.chunks import ChunkStore  # noqa: E402
from mesh.sync.protocol import PortalLink, Round  # noqa: E402
from mesh.sync.transport import QueueTransport, websocket_transport  # noqa: E402

A = Identity.from_seed(b"A" * 32)
B = Identity.from_seed(b"B" * 32)


def _make_folder(root: Path, files: int, size: int) -> int:
    total = 0
    for i in range(files):
        sub = root / f"d{i % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}.bin").write_bytes(os.urandom(size))
        total += size
    return total


async def _portal_sync(base: Path, src: Path, files: int) -> float:
    """Seconds from both engines starting until B has written every file of A's folder."""
    dst = base / "b-folder"
    received = {"files": 0}
    done = asyncio.Event()

    async def on_round(r: Round) -> None:
        if r.role == "receiver":
            received["files"] += r.files
            if received["files"] >= files:
                done.set()

    async def serve(ws) -> None:
        transport = QueueTransport(ws.send)

        async def pump() -> None:
            async for frame in ws:
                await transport.feed(frame)
            transport.feed_eof()

        pumping = asyncio.create_task(pump())
        session = await accept(transport.send, transport.recv, identity=A, authorize=lambda k: k == B.public_key)
        link = PortalLink(session, root=src, index_path=base / "a-state" / "index.json",
                          store=ChunkStore(base / "a-chunks"), node="a", scan_interval=0.2)  # fmt: skip
        # The session ends when B hangs up after the last file: that is how it is meant to end here.
        await asyncio.gather(link.run(), return_exceptions=True)
        pumping.cancel()

    started = time.perf_counter()
    async with websockets.serve(serve, "127.0.0.1", 0, max_size=2**20, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with websockets.connect(f"ws://127.0.0.1:{port}/", max_size=2**20, compression=None) as ws:
            session = await connect(*websocket_transport(ws), identity=B, expect_peer=A.public_key)
            link = PortalLink(session, root=dst, index_path=base / "b-state" / "index.json",
                              store=ChunkStore(base / "b-chunks"), node="b", on_round=on_round,
                              scan_interval=0.2)  # fmt: skip
            task = asyncio.create_task(link.run())
            await asyncio.wait_for(done.wait(), 600)
            elapsed = time.perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return elapsed


def portal_figures(quick: bool) -> dict:
    """Measure a first portal sync and ``rsync -a`` of the same folder; return MB/s figures and their ratio."""
    if shutil.which("rsync") is None:
        raise RuntimeError("The reference needs rsync on PATH (Debian: apt-get install rsync).")
    files, size = (200, 100_000) if quick else (2_000, 100_000)
    base = Path(tempfile.mkdtemp(prefix="dreamnet-bench-portal-"))
    try:
        src = base / "a-folder"
        total = _make_folder(src, files, size)
        subprocess.run(["sync"], check=False)
        started = time.perf_counter()
        subprocess.run(["rsync", "-a", f"{src}/", f"{base / 'rsync-dst'}/"], check=True)
        rsync_s = time.perf_counter() - started
        portal_s = asyncio.run(_portal_sync(base, src, files))
        mb = total / 1e6
        return {
            "files": files,
            "megabytes": round(mb, 1),
            "portal_seconds": round(portal_s, 3),
            "rsync_seconds": round(rsync_s, 3),
            "portal_MBps": round(mb / portal_s, 1),
            "rsync_MBps": round(mb / rsync_s, 1),
            "portal_vs_rsync": round((mb / portal_s) / (mb / rsync_s), 3),
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 MB in 200 files instead of 200 MB in 2,000.")
    parser.add_argument("--json", action="store_true", help="End with one JSON object of the figures.")
    args = parser.parse_args()
    figures = portal_figures(args.quick)
    print(f"portal first sync: {figures['megabytes']} MB in {figures['files']} files, {figures['portal_seconds']} s "
          f"= {figures['portal_MBps']} MB/s")  # fmt: skip
    print(f"rsync -a (same disk): {figures['rsync_seconds']} s = {figures['rsync_MBps']} MB/s")
    print(f"portal / rsync throughput: {figures['portal_vs_rsync']}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
