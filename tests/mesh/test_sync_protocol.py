"""The portal exchange between two PortalLinks over an in-memory session pair (no channel, no Django)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from mesh.sync.chunks import ChunkStore
from mesh.sync.folder import SyncError
from mesh.sync.protocol import PortalLink, Round


class Pipe:
    """One end of an in-memory session; ``tamper`` may rewrite frames it sends."""

    def __init__(self, inbox: asyncio.Queue, outbox: asyncio.Queue, tamper=None) -> None:
        self.inbox, self.outbox, self.tamper = inbox, outbox, tamper

    async def send(self, data: bytes) -> None:
        await self.outbox.put(self.tamper(data) if self.tamper else data)

    async def recv(self) -> bytes:
        return await self.inbox.get()

    async def close(self) -> None:
        return None


def _pair(tamper_b=None) -> tuple[Pipe, Pipe]:
    q1, q2 = asyncio.Queue(), asyncio.Queue()
    return Pipe(q1, q2), Pipe(q2, q1, tamper_b)


class Node:
    def __init__(self, base: Path, name: str) -> None:
        self.name = name
        self.root = base / name / "folder"
        self.root.mkdir(parents=True)
        self.state = base / name / "state"
        self.store = ChunkStore(base / name / "chunks")
        self.rounds: list[Round] = []

    def link(self, session) -> PortalLink:
        async def on_round(r: Round) -> None:
            self.rounds.append(r)

        return PortalLink(session, root=self.root, index_path=self.state / "index.json", store=self.store,
                          node=self.name, on_round=on_round, scan_interval=0.05)  # fmt: skip

    def files(self) -> dict[str, bytes]:
        out = {}
        for dirpath, _dirs, names in os.walk(self.root):
            for n in names:
                p = Path(dirpath) / n
                out[str(p.relative_to(self.root))] = p.read_bytes()
        return out


async def _until(cond, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_changes_flow_both_ways_and_a_rename_moves_no_bytes(tmp_path: Path) -> None:
    a, b = Node(tmp_path, "aaaa"), Node(tmp_path, "bbbb")
    (a.root / "nested" / "deep").mkdir(parents=True)
    (a.root / "nested" / "deep" / "one.txt").write_bytes(b"one")
    big = os.urandom(300_000)
    (b.root / "big.bin").write_bytes(big)

    async def go() -> None:
        sa, sb = _pair()
        tasks = [asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())]
        await _until(lambda: a.files() == b.files() and len(a.files()) == 2)
        (a.root / "nested" / "deep" / "one.txt").write_bytes(b"one, edited")
        await _until(lambda: b.files().get("nested/deep/one.txt") == b"one, edited")
        moved_before = sum(r.bytes for r in a.rounds if r.role == "receiver")
        os.rename(b.root / "big.bin", b.root / "renamed.bin")
        await _until(lambda: "renamed.bin" in a.files() and "big.bin" not in a.files())
        assert sum(r.bytes for r in a.rounds if r.role == "receiver") == moved_before  # chunks already there
        (a.root / "nested" / "deep" / "one.txt").unlink()
        await _until(lambda: "nested/deep/one.txt" not in b.files())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _run(go())
    assert a.files() == b.files() == {"renamed.bin": big}
    receiver = {(r.manifest, r.chunks, r.bytes) for r in a.rounds if r.role == "receiver"}
    sender = {(r.manifest, r.chunks, r.bytes) for r in b.rounds if r.role == "sender"}
    assert receiver == sender and receiver  # both ends name the same manifest, chunk count and bytes


def test_a_concurrent_edit_keeps_both_versions_on_both_sides(tmp_path: Path) -> None:
    a, b = Node(tmp_path, "aaaa"), Node(tmp_path, "bbbb")
    (a.root / "doc.txt").write_bytes(b"base")

    async def go() -> None:
        sa, sb = _pair()
        tasks = [asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())]
        await _until(lambda: b.files().get("doc.txt") == b"base")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        (a.root / "doc.txt").write_bytes(b"edit on a")
        os.utime(a.root / "doc.txt", ns=(10**18, 10**18))
        (b.root / "doc.txt").write_bytes(b"edit on b")
        os.utime(b.root / "doc.txt", ns=(2 * 10**18, 2 * 10**18))  # b's edit is the newer one
        sa, sb = _pair()
        tasks = [asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())]
        await _until(lambda: a.files() == b.files() and len(a.files()) == 2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _run(go())
    files = a.files()
    assert files["doc.txt"] == b"edit on b"
    (conflict,) = [p for p in files if p != "doc.txt"]
    assert conflict.startswith("doc.conflict-aaaa-") and conflict.endswith(".txt")
    assert files[conflict] == b"edit on a"


def test_a_tampered_chunk_ends_the_session_and_writes_nothing(tmp_path: Path) -> None:
    a, b = Node(tmp_path, "aaaa"), Node(tmp_path, "bbbb")
    (a.root / "keep.txt").write_bytes(b"already synced")
    (b.root / "keep.txt").write_bytes(b"already synced")

    def flip(frame: bytes) -> bytes:
        return frame[:-1] + bytes([frame[-1] ^ 1]) if frame[:1] == b"C" else frame

    async def go() -> None:
        sa, sb = _pair(tamper_b=flip)
        (b.root / "new.bin").write_bytes(os.urandom(50_000))
        ta, tb = asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())
        with pytest.raises(SyncError) as exc:
            await ta
        assert exc.value.code == "tampered_chunk"
        tb.cancel()
        await asyncio.gather(tb, return_exceptions=True)

    _run(go())
    assert a.files() == {"keep.txt": b"already synced"}


def test_a_record_with_a_traversing_path_ends_the_session(tmp_path: Path) -> None:
    a = Node(tmp_path, "aaaa")

    async def go() -> None:
        sa, sb = _pair()
        ta = asyncio.create_task(a.link(sa).run())
        evil = {"path": "../escape.txt", "version": {"x": 1}, "deleted": False, "size": 0, "mtime_ns": 1,
                "chunks": []}  # fmt: skip
        await sb.send(b'J{"t":"update","seq":1,"files":[' + __import__("json").dumps(evil).encode() + b"]}")
        with pytest.raises(SyncError) as exc:
            await ta
        assert exc.value.code == "path_traversal"

    _run(go())
    assert not (tmp_path / "aaaa" / "escape.txt").exists()


def test_a_peer_dying_mid_transfer_writes_no_partial_file(tmp_path: Path) -> None:
    a, b = Node(tmp_path, "aaaa"), Node(tmp_path, "bbbb")
    (a.root / "big.bin").write_bytes(b"old version on a")
    (b.root / "big.bin").write_bytes(b"old version on a")

    class Dies(Pipe):
        """B's end: after two chunk frames the connection is gone."""

        sent_chunks = 0

        async def send(self, data: bytes) -> None:
            if data[:1] == b"C":
                self.sent_chunks += 1
                if self.sent_chunks > 2:
                    await self.outbox.put(b"")  # a's reader sees garbage, as after a cut
                    raise ConnectionError("peer died")
            await super().send(data)

    async def go() -> None:
        # a synced the old version with b earlier; now b has a big new version and dies while sending it.
        q1, q2 = asyncio.Queue(), asyncio.Queue()
        sa, sb = Pipe(q1, q2), Pipe(q2, q1)
        tasks = [asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())]
        await _until(lambda: a.link  # both indexes hold the old version after the first exchange
                     and (tmp_path / "aaaa" / "state" / "index.json").exists()
                     and (tmp_path / "bbbb" / "state" / "index.json").exists())  # fmt: skip
        await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        (b.root / "big.bin").write_bytes(os.urandom(1_000_000))
        q1, q2 = asyncio.Queue(), asyncio.Queue()
        sa, sb = Pipe(q1, q2), Dies(q2, q1)
        ta, tb = asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())
        done, _ = await asyncio.wait([ta], timeout=5)
        assert done, "a's session did not end when b died"
        with pytest.raises(SyncError):
            ta.result()
        tb.cancel()
        await asyncio.gather(tb, return_exceptions=True)

    _run(go())
    assert a.files() == {"big.bin": b"old version on a"}  # the good file stays; no temp file is left


def test_a_path_ignored_here_is_not_written_from_the_peer(tmp_path: Path) -> None:
    a, b = Node(tmp_path, "aaaa"), Node(tmp_path, "bbbb")
    (b.root / ".dreamignore").write_text("*.log\n")
    (a.root / "debug.log").write_bytes(b"noise")
    (a.root / "kept.txt").write_bytes(b"kept")

    async def go() -> None:
        sa, sb = _pair()
        tasks = [asyncio.create_task(a.link(sa).run()), asyncio.create_task(b.link(sb).run())]
        await _until(lambda: "kept.txt" in b.files())
        await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    _run(go())
    assert "debug.log" not in b.files() and a.files()["debug.log"] == b"noise"
