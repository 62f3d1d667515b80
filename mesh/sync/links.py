"""Portal sessions over the encrypted channel: the joiner dials, the opener's web process answers.

The joiner (``manage.py sync``, started by ``serve``) opens a websocket to the opener's ``/ws/mesh/sync/``, runs
the channel handshake (``expect_peer`` = the key named in the portal key; the peer must be pinned and not
quarantined on both sides), then sends ``{"t": "hello", "kind": "portal", "portal", "proof"}``. The opener's
consumer (``SyncConsumer``) admits it (``portal_admit``) or answers ``{"t": "error", "code"}`` and closes. Then
both ends run ``PortalLink`` until the connection drops, a fault ends the channel, or the portal is closed.
One session per portal at a time per node (a lock file beside its index).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from mesh.identity import node_identity
from mesh.models import Peer, Portal, Signal
from mesh.sync.channel import ChannelError, accept, connect
from mesh.sync.folder import SyncError
from mesh.sync.peering import authorize, channel_identity, ws_url
from mesh.sync.portals import (
    SyncRefused,
    admitted_peer_keys,
    chunk_store,
    index_path,
    key_proof,
    portal_admit,
    portal_state,
    transfer_record,
)
from mesh.sync.protocol import PortalLink, Round, decode_json, encode_json
from mesh.sync.sends import file_receive
from mesh.sync.signals import signal_publish, signal_pull, signal_serve
from mesh.sync.transport import QueueTransport, websocket_transport

logger = logging.getLogger(__name__)
WATCH_S = 1.0
PROGRESS_EVERY_S = 0.3


@contextlib.asynccontextmanager
async def portal_lock(portal: Portal) -> AsyncIterator[None]:
    """Hold the portal's lock file for the session; SyncError 'portal_busy' when another session holds it."""
    path = index_path(portal).with_name("lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SyncError("Another session of this portal is running on this node.", code="portal_busy") from exc
        yield
    finally:
        os.close(fd)


async def run_portal(session: Any, portal: Portal) -> None:
    """Run the portal exchange on an admitted session until it ends; record rounds, progress and the outcome."""
    peer_key = bytes(session.peer_key)
    last_progress = [0.0]

    async def on_round(r: Round) -> None:
        await database_sync_to_async(transfer_record)(
            kind="portal", direction="in" if r.role == "receiver" else "out", peer_key=peer_key,
            manifest=r.manifest, files=r.files, chunks=r.chunks, bytes_moved=r.bytes, conflicts=r.conflicts,
            portal_id=portal.pk, subject=f"portal {portal.portal_id} round {r.seq}",
        )  # fmt: skip

    async def on_progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last_progress[0] >= PROGRESS_EVERY_S or done >= total:
            last_progress[0] = now
            await database_sync_to_async(portal_state)(portal_id=portal.pk, progress=(done, total))

    link = PortalLink(session, root=Path(portal.path), index_path=index_path(portal), store=chunk_store(),
                      node=node_identity().node_id, on_round=on_round, on_progress=on_progress)  # fmt: skip
    async with portal_lock(portal):
        await database_sync_to_async(portal_state)(portal_id=portal.pk, connected=True, error="")
        runner = asyncio.create_task(link.run())
        watcher = asyncio.create_task(_watch_open(portal.pk))
        try:
            done, _ = await asyncio.wait([runner, watcher], return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()
        finally:
            for t in (runner, watcher):
                t.cancel()
            await asyncio.gather(runner, watcher, return_exceptions=True)
            with contextlib.suppress(Exception):
                await session.close()
            await database_sync_to_async(portal_state)(portal_id=portal.pk, connected=False, progress=(0, 0))


async def _watch_open(portal_pk: int) -> None:
    """Return once the portal is closed (or gone), which ends its session."""
    while True:
        await asyncio.sleep(WATCH_S)
        open_now = await database_sync_to_async(
            Portal.objects.filter(pk=portal_pk, state=Portal.State.OPEN).exists
        )()  # fmt: skip
        if not open_now:
            return


# The joiner ------------------------------------------------------------------------------------------------------


def _dial_target(portal_pk: int) -> tuple[Portal, str]:
    portal = Portal.objects.select_related("peer").get(pk=portal_pk)
    if portal.peer is None or portal.peer.state == Peer.State.QUARANTINED:
        raise SyncError("The portal's peer is gone or quarantined; nothing is dialled.", code="unknown_peer")
    return portal, ws_url(portal.peer.url)


async def portal_dial(portal_pk: int, *, url: str | None = None) -> None:
    """Connect to the opener of a joined portal and sync until the session ends; raise why it ended."""
    portal, target = await database_sync_to_async(_dial_target)(portal_pk)
    async with websockets.connect(
        url or target, open_timeout=10, max_size=2**20, ping_interval=20, compression=None
    ) as ws:
        send, recv = websocket_transport(ws)
        session = await connect(send, recv, identity=channel_identity(), expect_peer=bytes.fromhex(portal.opener_key),
                                authorize=authorize)  # fmt: skip
        proof = key_proof(portal.secret, session.handshake_hash)
        await session.send(encode_json({"t": "hello", "kind": "portal", "portal": portal.portal_id, "proof": proof}))
        reply = decode_json(await session.recv())
        if reply["t"] == "error":
            raise SyncError(f"The peer refused the portal: {reply.get('detail', '')}", code=str(reply.get("code")))
        if reply["t"] != "welcome":
            raise SyncError("The peer answered the hello with something else.", code="bad_frame")
        await run_portal(session, portal)


async def keep_dialing(portal_pk: int) -> None:
    """Dial the portal's opener again and again (0.5 s, doubling to 5 s after failures) until cancelled."""
    delay = 0.5
    while True:
        started = time.monotonic()
        try:
            await portal_dial(portal_pk)
            error = "the session ended"
        except asyncio.CancelledError:
            raise
        except (ChannelError, SyncError, SyncRefused) as exc:
            error = f"{getattr(exc, 'reason', None) or getattr(exc, 'code', '')}: {exc}"
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            error = f"unreachable: {exc}"
        except Portal.DoesNotExist:
            return
        logger.info("portal %s: %s", portal_pk, error)
        await database_sync_to_async(portal_state)(portal_id=portal_pk, connected=False, error=error)
        if time.monotonic() - started > 30:
            delay = 0.5
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def keep_signal(signal_pk: int, role: str, *, every_s: float = 1.0) -> None:
    """Publisher: sign a new manifest when the folder changed. Subscriber: pull from the source. Every second."""
    while True:
        error = ""
        try:
            if role == Signal.Role.PUBLISHER:
                signal = await database_sync_to_async(Signal.objects.get)(pk=signal_pk)
                await database_sync_to_async(signal_publish)(signal=signal)
            else:
                await signal_pull(signal_pk)
        except asyncio.CancelledError:
            raise
        except Signal.DoesNotExist:
            return
        except (ChannelError, SyncError, SyncRefused) as exc:
            error = f"{getattr(exc, 'reason', None) or getattr(exc, 'code', '')}: {exc}"
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            error = f"unreachable: {exc}"
        if error:
            logger.info("signal %s: %s", signal_pk, error)
            await database_sync_to_async(Signal.objects.filter(pk=signal_pk).update)(last_error=error[:2000])
        await asyncio.sleep(every_s if not error else every_s * 3)


def _wanted() -> dict[tuple[str, int], str]:
    out = {("portal", pk): "" for pk in Portal.objects.filter(role=Portal.Role.JOINER, state=Portal.State.OPEN)
           .values_list("pk", flat=True)}  # fmt: skip
    for pk, role in Signal.objects.filter(state=Signal.State.OPEN).values_list("pk", "role"):
        out[("signal", pk)] = role
    return out


async def sync_loop(*, poll_s: float = 2.0, once: bool = False) -> None:
    """Keep one task per open joined portal and per open signal; start and stop them as they open and close."""
    tasks: dict[tuple[str, int], asyncio.Task] = {}
    while True:
        wanted = await database_sync_to_async(_wanted)()
        for (kind, pk), role in wanted.items():
            if (kind, pk) not in tasks or tasks[kind, pk].done():
                job = keep_dialing(pk) if kind == "portal" else keep_signal(pk, role)
                tasks[kind, pk] = asyncio.create_task(job)
        for pk in list(tasks):
            if pk not in wanted:
                tasks.pop(pk).cancel()
        if once:
            break
        await asyncio.sleep(poll_s)


# The opener: the websocket consumer ------------------------------------------------------------------------------


class SyncConsumer(AsyncWebsocketConsumer):
    """/ws/mesh/sync/: a peer's channel. Unknown or quarantined peers are refused in the handshake."""

    # The channel is point to point: no channel-layer name, so no layer receive loop per session (with Redis,
    # no blocking read per connected peer) and nothing another process could send into it.
    channel_layer_alias = None

    async def connect(self) -> None:
        await self.accept()
        self.transport = QueueTransport(lambda data: self.send(bytes_data=data))
        self.task = asyncio.create_task(self._serve())

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.transport.feed(bytes_data if bytes_data is not None else text_data)

    async def disconnect(self, code: int) -> None:
        self.transport.feed_eof()

    async def _serve(self) -> None:
        try:
            session = await accept(self.transport.send, self.transport.recv, identity=channel_identity(),
                                   authorize=authorize)  # fmt: skip
            hello = decode_json(await session.recv())
            if hello["t"] == "hello" and hello.get("kind") == "send":
                await file_receive(session, hello)
                return
            if hello["t"] == "hello" and hello.get("kind") == "signal":
                await signal_serve(session, hello)
                return
            if hello["t"] != "hello" or hello.get("kind") != "portal":
                await _refuse(session, "bad_hello", "Expected a portal hello.")
                return
            peer_id = (await database_sync_to_async(admitted_peer_keys)()).get(bytes(session.peer_key))
            try:
                portal = await database_sync_to_async(portal_admit)(
                    portal_id=str(hello.get("portal")), peer_id=peer_id, proof=str(hello.get("proof")),
                    handshake_hash=session.handshake_hash,
                )  # fmt: skip
            except SyncRefused as exc:
                await _refuse(session, exc.code, str(exc))
                return
            await session.send(encode_json({"t": "welcome"}))
            await run_portal(session, portal)
        except (ChannelError, SyncError) as exc:
            logger.info("sync session ended: %s: %s", getattr(exc, "reason", None) or getattr(exc, "code", ""), exc)
        except Exception:
            logger.exception("sync session failed")
        finally:
            with contextlib.suppress(Exception):
                await self.close()


async def _refuse(session: Any, code: str, detail: str) -> None:
    with contextlib.suppress(ChannelError):
        await session.send(encode_json({"t": "error", "code": code, "detail": detail}))
        await session.close()
