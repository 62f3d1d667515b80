"""Two real nodes on loopback: node A opens a portal (its daphne answers /ws/mesh/sync/), node B joins it (its
``manage.py sync`` loop dials A). Each node has its own DREAMNET_HOME and SQLite file; the portal key travels
through the real ``dream portal open`` / ``dream portal connect`` commands.

Covered: create, modify, rename, delete on either side (nested folders); a concurrent edit keeps a conflict copy;
a 1% change to a 50 MB file moves under 3% of its bytes; receipts on both sides name the same manifest; a frame
modified in flight ends the session and writes nothing; the pinned peer without the portal key gets nothing; an
unknown node is refused in the handshake. Plain pytest (no test database): the nodes own their databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nacl.signing
import pytest
import websockets

from mesh.note import Signer
from mesh.sync.channel import ChannelError, Identity, connect
from mesh.sync.chunks import chunks_of
from mesh.sync.protocol import decode_json, encode_json
from mesh.sync.transport import websocket_transport

pytestmark = [pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[2]
DREAM = str(Path(sys.executable).with_name("dream"))  # the console script beside this interpreter
SETUP = """
import os, sys, django
django.setup()
from django.core.management import call_command
from django.utils import timezone
from mesh.models import Peer
if sys.argv[1] == "migrate":
    call_command("migrate", verbosity=0)
else:
    url, origin, vkey = sys.argv[2:5]
    Peer.objects.create(url=url, origin=origin, verifier_key=vkey, pinned_via="operator", score=50.0,
                        score_at=timezone.now())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(cond, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.1)


class Node:
    def __init__(self, base: Path, name: str) -> None:
        self.name = name
        self.home = base / name / "home"
        self.folder = base / name / "folder"
        (self.home / "identity").mkdir(parents=True, mode=0o700)
        self.seed = bytes([ord(name)]) * 32
        seed_file = self.home / "identity" / "ed25519.seed"
        seed_file.write_bytes(self.seed)
        seed_file.chmod(0o600)
        self.origin = f"node-{name}.sync.test"
        self.key = nacl.signing.SigningKey(self.seed)
        self.verifier_key = Signer(self.origin, self.key).verifier_key
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = self.home / "dreamnet.sqlite3"
        self.procs: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DREAMNET_SQLITE_PATH")}
        return env | {"DJANGO_SETTINGS_MODULE": "dreamnet.settings", "DREAMNET_HOME": str(self.home),
                      "DREAMNET_NODE_NAME": self.origin, "DREAMNET_MESH_CHECKPOINT_TIMER": "false",
                      "SECRET_KEY": "sync-two-nodes-test-" + self.name * 40}  # fmt: skip

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60)

    def start(self, *argv: str, label: str) -> None:
        err = (self.home / f"{label}.err").open("w")
        self.procs.append(subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=err,
                                           start_new_session=True))  # fmt: skip

    def query(self, sql: str, *args) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db, timeout=10)) as db:
            return db.execute(sql, args).fetchall()

    def files(self) -> dict[str, bytes]:
        out = {}
        for dirpath, _dirs, names in os.walk(self.folder):
            for n in names:
                p = Path(dirpath) / n
                with contextlib.suppress(FileNotFoundError):
                    out[p.relative_to(self.folder).as_posix()] = p.read_bytes()
        return out


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("sync-nodes")
    a, b = Node(base, "a"), Node(base, "b")
    done = a.run(sys.executable, "-c", SETUP, "migrate")
    assert done.returncode == 0, done.stderr
    shutil.copy(a.db, b.db)
    pins = [
        subprocess.Popen([sys.executable, "-c", SETUP, "pin", other.url, other.origin, other.verifier_key], cwd=ROOT,
                         env=me.env, stderr=subprocess.PIPE, text=True)
        for me, other in ((a, b), (b, a))
    ]  # fmt: skip
    for p in pins:
        assert p.wait(60) == 0, p.stderr.read()
    try:
        for n in (a, b):
            n.start(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(n.port), "dreamnet.asgi:application",
                    label="web")  # fmt: skip
        b.start(sys.executable, "manage.py", "sync", "--poll", "0.5", label="sync")
        opened = a.run(DREAM, "portal", "open", str(a.folder), "--json")
        assert opened.returncode == 0, opened.stderr
        key = json.loads(opened.stdout)["key"]
        joined = b.run(DREAM, "portal", "connect", key, "--peer", a.origin,
                       "--path", str(b.folder), "--json")  # fmt: skip
        assert joined.returncode == 0, joined.stderr
        _until(lambda: all(_answers(n.port) for n in (a, b)), 30, "both web servers")
        yield {"a": a, "b": b, "key": key}
    finally:
        for n in (a, b):
            for p in n.procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _connected(b: Node) -> bool:
    return b.query("select connected from mesh_portal")[0][0] == 1


def test_changes_reach_the_other_side_both_ways(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    _until(lambda: _connected(b), 30, "B connected")
    (a.folder / "docs" / "deep").mkdir(parents=True)
    (a.folder / "docs" / "deep" / "plan.txt").write_bytes(b"from a")
    _until(lambda: b.files().get("docs/deep/plan.txt") == b"from a", what="a new file on B")
    (b.folder / "notes.md").write_bytes(b"from b")
    _until(lambda: a.files().get("notes.md") == b"from b", what="a new file on A")
    (b.folder / "docs" / "deep" / "plan.txt").write_bytes(b"from a, edited on b")
    _until(lambda: a.files().get("docs/deep/plan.txt") == b"from a, edited on b", what="an edit on A")
    os.rename(a.folder / "notes.md", a.folder / "docs" / "notes-renamed.md")
    _until(lambda: "notes.md" not in b.files() and b.files().get("docs/notes-renamed.md") == b"from b",
           what="a rename on B")  # fmt: skip
    (b.folder / "docs" / "deep" / "plan.txt").unlink()
    _until(lambda: "docs/deep/plan.txt" not in a.files(), what="a delete on A")
    _until(lambda: a.files() == b.files(), what="equal folders")


def test_a_concurrent_edit_keeps_a_conflict_copy_on_both_sides(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    (a.folder / "shared.txt").write_bytes(b"base")
    _until(lambda: b.files().get("shared.txt") == b"base", what="the base version on B")
    sync = b.procs[-1]
    os.kill(sync.pid, signal.SIGSTOP)  # B's loop is frozen while both sides edit
    try:
        (a.folder / "shared.txt").write_bytes(b"edit on a")
        (b.folder / "shared.txt").write_bytes(b"edit on b, later")
        time.sleep(1.5)
    finally:
        os.kill(sync.pid, signal.SIGCONT)

    def settled() -> bool:
        fa, fb = a.files(), b.files()
        return fa == fb and any(".conflict-" in p for p in fa)

    _until(settled, 20, "a conflict copy on both sides")
    files = a.files()
    versions = {files["shared.txt"]} | {v for p, v in files.items() if p.startswith("shared.conflict-")}
    assert versions == {b"edit on a", b"edit on b, later"}  # both edits kept
    assert (
        int(b.query("select conflicts from mesh_portal")[0][0])
        + int(a.query("select conflicts from mesh_portal")[0][0])
        >= 1
    )


def test_a_one_percent_change_moves_under_three_percent(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    # The figure: 50 MB. Seeded bytes, so the chunk boundaries (and the bytes moved) are the same every run;
    # at 8 MB the chunks around the edit alone (up to 256 KiB each side) could pass 3% for unlucky random data.
    size = 50 * 1024 * 1024
    rng = random.Random(16)
    data = bytearray(rng.randbytes(size))
    (a.folder / "big.bin").write_bytes(data)
    _until(lambda: (b.folder / "big.bin").exists() and (b.folder / "big.bin").stat().st_size == size, 30,
           "the large file on B")  # fmt: skip
    _until(lambda: b.files().get("big.bin") == bytes(data), what="the large file whole on B")
    time.sleep(0.5)
    before = b.query("select bytes_in from mesh_portal")[0][0]
    mid = size // 2
    data[mid : mid + size // 100] = rng.randbytes(size // 100)  # 1% rewritten in place
    (a.folder / "big.bin").write_bytes(data)
    _until(lambda: b.files().get("big.bin") == bytes(data), 30, "the changed file on B")
    _until(lambda: b.query("select bytes_in from mesh_portal")[0][0] > before, what="the round recorded")
    moved = b.query("select bytes_in from mesh_portal")[0][0] - before
    assert 0 < moved < 0.03 * size, f"{moved} bytes moved for a 1% change of {size}"


def test_both_sides_hold_matching_receipts(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    sql = "select manifest_digest, chunks, bytes from mesh_synctransfer where kind='portal' and direction=?"
    b_in, a_in = set(b.query(sql, "in")), set(a.query(sql, "in"))
    assert b_in and a_in  # rounds went both ways
    _until(lambda: set(a.query(sql, "out")) >= b_in and set(b.query(sql, "out")) >= a_in, what="the senders' receipts")
    for n in (a, b):  # every transfer row has its signed receipt in the node's log
        rows = n.query("select count(*) from mesh_synctransfer t join mesh_receipt r on r.id = t.receipt_id "
                       "where t.kind='portal' and r.operation like 'sync.portal.%'")  # fmt: skip
        assert rows[0][0] == n.query("select count(*) from mesh_synctransfer where kind='portal'")[0][0]


async def _dial(node: Node, seed: bytes, via: str | None = None):
    ws = await websockets.connect(via or f"ws://127.0.0.1:{node.port}/ws/mesh/sync/", max_size=2**20)
    send, recv = websocket_transport(ws)
    session = await connect(send, recv, identity=Identity.from_seed(seed), expect_peer=node.key.verify_key.encode())
    return ws, session


def test_the_pinned_peer_without_the_portal_key_gets_nothing(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    portal_id = nodes["key"].split(".")[1]

    async def go() -> dict:
        ws, session = await _dial(a, b.seed)
        await session.send(encode_json({"t": "hello", "kind": "portal", "portal": portal_id, "proof": "00" * 32}))
        reply = decode_json(await session.recv())
        with pytest.raises(ChannelError):
            await session.recv()
        await ws.close()
        return reply

    reply = asyncio.run(asyncio.wait_for(go(), 20))
    assert reply == {
        "t": "error",
        "code": "wrong_portal_key",
        "detail": "The portal key is wrong or the portal is closed.",
    }


def test_an_unknown_node_is_refused_in_the_handshake(nodes) -> None:
    a = nodes["a"]

    async def go() -> str:
        with pytest.raises(ChannelError) as exc:
            await _dial(a, b"\x07" * 32)
        return exc.value.reason

    assert asyncio.run(asyncio.wait_for(go(), 20)) == "refused"


def test_a_frame_modified_in_flight_ends_the_session_and_writes_nothing(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    payload = os.urandom(300_000)
    chunks = chunks_of(payload)
    before = a.query("select count(*) from mesh_synctransfer where kind='send'")[0][0]

    async def go() -> str:
        upstream_url = f"ws://127.0.0.1:{a.port}/ws/mesh/sync/"
        seen = {"client": 0}

        async def proxy(client) -> None:
            async with websockets.connect(upstream_url, max_size=2**20) as up:

                async def pump(src, dst, tamper: bool) -> None:
                    async for frame in src:
                        if tamper:
                            seen["client"] += 1
                            if seen["client"] == 6:  # a chunk frame, well after the handshake and the hello
                                frame = frame[:-1] + bytes([frame[-1] ^ 0x01])
                        await dst.send(frame)

                pumps = [asyncio.create_task(pump(client, up, True)), asyncio.create_task(pump(up, client, False))]
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
                for t in pumps:
                    t.cancel()
                await client.close()

        async with websockets.serve(proxy, "127.0.0.1", 0, max_size=2**20) as server:
            port = server.sockets[0].getsockname()[1]
            ws, session = await _dial(a, b.seed, via=f"ws://127.0.0.1:{port}/")
            await session.send(encode_json({"t": "hello", "kind": "send", "name": "tampered.bin", "size": len(payload),
                                            "chunks": [[c.digest, c.length] for c in chunks]}))  # fmt: skip
            want = decode_json(await session.recv())
            try:
                for d in want["digests"]:
                    c = next(c for c in chunks if c.digest == d)
                    await session.send(b"C" + bytes.fromhex(d) + payload[c.offset : c.offset + c.length])
                reason = "no error"
                await session.recv()
            except ChannelError as exc:
                reason = exc.reason
            await ws.close()
            return reason

    reason = asyncio.run(asyncio.wait_for(go(), 20))
    assert reason in ("closed", "truncated", "transport")  # A ended the session
    time.sleep(0.5)
    inbox = a.home / "inbox"
    assert not inbox.exists() or not any(p.is_file() and not p.name.startswith(".") for p in inbox.rglob("*"))
    assert a.query("select count(*) from mesh_synctransfer where kind='send'")[0][0] == before
    assert "tampered" in (a.home / "web.err").read_text()


def test_dream_send_lands_in_the_peer_inbox_with_receipts_on_both_sides(nodes, tmp_path: Path) -> None:
    a, b = nodes["a"], nodes["b"]
    payload = os.urandom(400_000)
    (tmp_path / "report.pdf").write_bytes(payload)
    sent = b.run(DREAM, "send", str(tmp_path / "report.pdf"), "--peer", a.origin, "--json")
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    (landed,) = list((a.home / "inbox").rglob("report*.pdf"))
    assert landed.read_bytes() == payload
    sql = "select manifest_digest, chunks, bytes from mesh_synctransfer where kind='send' and direction=?"
    assert (result["manifest"], result["chunks"], result["bytes"]) in set(a.query(sql, "in")) & set(b.query(sql, "out"))
    refused = b.run(DREAM, "send", str(tmp_path / "report.pdf"), "--peer", "nobody.example")
    assert refused.returncode == 1 and refused.stderr.startswith("error: unknown_peer")


def test_a_signal_reaches_its_subscriber_verified_with_receipts(nodes, tmp_path: Path) -> None:
    a, b = nodes["a"], nodes["b"]
    published, copy = tmp_path / "broadcast", tmp_path / "copy"
    (published / "issues").mkdir(parents=True)
    (published / "issues" / "one.txt").write_bytes(b"issue one")
    opened = a.run(DREAM, "signal", "open", "--name", "news", str(published), "--json")
    assert opened.returncode == 0, opened.stderr
    key = json.loads(opened.stdout)["key"]
    joined = b.run(DREAM, "signal", "join", key, "--peer", a.origin, "--path", str(copy), "--json")
    assert joined.returncode == 0, joined.stderr
    _until(lambda: (copy / "issues" / "one.txt").exists() and (copy / "issues" / "one.txt").read_bytes() == b"issue one",
           20, "the first issue on B")  # fmt: skip
    (published / "issues" / "two.txt").write_bytes(b"issue two")
    (published / "issues" / "one.txt").unlink()
    _until(lambda: (copy / "issues" / "two.txt").exists() and not (copy / "issues" / "one.txt").exists(), 20,
           "the next manifest on B")  # fmt: skip
    sql = "select manifest_digest, chunks, bytes from mesh_synctransfer where kind='signal' and direction=?"
    _until(lambda: set(b.query(sql, "in")) and set(b.query(sql, "in")) <= set(a.query(sql, "out")), what="receipts")
    seq = b.query("select last_seq from mesh_signal")[0][0]
    assert seq == a.query("select last_seq from mesh_signal")[0][0] >= 2


def test_changes_made_while_apart_arrive_after_reconnecting(nodes) -> None:
    a, b = nodes["a"], nodes["b"]
    loop = b.procs.pop()  # B's sync loop: stopped, so the nodes are apart
    os.killpg(loop.pid, signal.SIGKILL)
    loop.wait()
    (a.folder / "while-apart-a.txt").write_bytes(b"written on a while apart")
    (b.folder / "offline" / "deep").mkdir(parents=True)
    (b.folder / "offline" / "deep" / "b.txt").write_bytes(b"written on b while apart")
    time.sleep(1.2)
    assert "while-apart-a.txt" not in b.files() and "offline/deep/b.txt" not in a.files()
    b.start(sys.executable, "manage.py", "sync", "--poll", "0.5", label="sync-again")
    _until(lambda: b.files().get("while-apart-a.txt") == b"written on a while apart"
           and a.files().get("offline/deep/b.txt") == b"written on b while apart", 30, "both changes after reconnecting")  # fmt: skip
