"""The encrypted sync channel: a Noise XX handshake on node keys, framed messages, and every fault named.

Pure asyncio over in-memory wires (a man in the middle alters them) plus one run over a real websocket.
"""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import sys

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve as ws_serve

from mesh.sync.channel import (
    FIRST_PART,
    MAX_MESSAGE,
    NEXT_PART,
    START,
    ChannelError,
    Identity,
    accept,
    connect,
)
from mesh.sync.transport import QueueTransport, websocket_transport

ALICE = Identity.from_seed(b"a" * 32)  # the initiator
BOB = Identity.from_seed(b"b" * 32)  # the responder
MALLORY = Identity.from_seed(b"m" * 32)


class Wire:
    """One direction between the nodes; after its handshake messages, a man in the middle may alter frames."""

    def __init__(self, handshake_messages: int) -> None:
        self.queue: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.handshake_messages = handshake_messages
        self.sent: list[bytes] = []  # every frame the sender wrote, as written
        self.alter = None  # alter(index, frame, wire) -> frames to deliver
        self.held: list[bytes] = []

    async def send(self, frame: bytes) -> None:
        self.sent.append(frame)
        index = len(self.sent) - 1 - self.handshake_messages
        delivered = [frame] if index < 0 or self.alter is None else self.alter(index, frame, self)
        for f in delivered:
            self.queue.put_nowait(f)

    async def recv(self) -> bytes | str | None:
        return await self.queue.get()

    def cut(self) -> None:
        self.queue.put_nowait(None)


async def _pair(*, authorize=None, expect_peer=None, server_identity=BOB, client_identity=ALICE):
    """Handshake ALICE (initiator) with BOB (responder); return both sessions and both wires."""
    a2b, b2a = Wire(handshake_messages=2), Wire(handshake_messages=1)
    server = asyncio.create_task(
        accept(
            b2a.send, a2b.recv, identity=server_identity, authorize=authorize or (lambda key: key == ALICE.public_key)
        )
    )
    try:
        client = await connect(a2b.send, b2a.recv, identity=client_identity, expect_peer=expect_peer)
    except ChannelError:
        a2b.cut()
        await asyncio.gather(server, return_exceptions=True)
        raise
    return client, await server, a2b, b2a


def _flip(at: int):
    def alter(index, frame, wire):
        if index != at:
            return [frame]
        changed = bytearray(frame)
        changed[-1] ^= 0x01
        return [bytes(changed)]

    return alter


def _replay(at: int):
    return lambda index, frame, wire: [frame, frame] if index == at else [frame]


def _drop(at: int):
    return lambda index, frame, wire: [] if index == at else [frame]


def _swap(at: int):
    def alter(index, frame, wire):
        if index == at:
            wire.held.append(frame)
            return []
        if index == at + 1:
            return [frame, wire.held.pop()]
        return [frame]

    return alter


def _data(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


async def test_handshake_proves_both_keys_and_messages_round_trip():
    client, server, _, _ = await _pair(expect_peer=BOB.public_key)
    assert client.peer_key == BOB.public_key and server.peer_key == ALICE.public_key
    assert client.handshake_hash == server.handshake_hash and len(client.handshake_hash) == 64  # BLAKE2b
    messages = [b"", b"hello", _data(FIRST_PART), _data(FIRST_PART + 1), _data(FIRST_PART + 3 * NEXT_PART + 5)]
    for message in messages:
        await client.send(message)
        await server.send(message[::-1])
    for message in messages:
        assert await server.recv() == message
        assert await client.recv() == message[::-1]


async def test_largest_message_round_trips_and_a_larger_one_is_refused(caplog):
    client, server, _, _ = await _pair()
    message = _data(MAX_MESSAGE)
    await client.send(message)
    assert await server.recv() == message
    with pytest.raises(ChannelError) as sent:
        await client.send(message + b"!")
    assert sent.value.reason == "too_large"
    # A (faulty) peer announcing more than the cap ends the session at once.
    await client._write(bytes([START]) + (MAX_MESSAGE + 1).to_bytes(8, "big"))
    with caplog.at_level(logging.WARNING, logger="mesh.sync.channel"), pytest.raises(ChannelError) as got:
        await server.recv()
    assert got.value.reason == "too_large"
    assert "too_large" in caplog.text


async def test_unknown_peer_is_refused_before_any_data():
    asked = []

    def authorize(key: bytes) -> bool:
        asked.append(key)
        return False

    a2b, b2a = Wire(handshake_messages=2), Wire(handshake_messages=1)
    server = asyncio.create_task(accept(b2a.send, a2b.recv, identity=BOB, authorize=authorize))
    with pytest.raises(ChannelError) as client_error:
        await connect(a2b.send, b2a.recv, identity=ALICE)
    with pytest.raises(ChannelError) as server_error:
        await server
    assert asked == [ALICE.public_key]
    assert server_error.value.reason == "unknown_peer"
    assert client_error.value.reason == "refused" and "refused" in str(client_error.value)
    assert len(a2b.sent) == 2  # the two handshake messages; connect never returned a session to send on


async def test_an_async_authorize_is_awaited():
    async def authorize(key: bytes) -> bool:
        await asyncio.sleep(0)
        return key == ALICE.public_key

    client, server, _, _ = await _pair(authorize=authorize)
    await client.send(b"ok")
    assert await server.recv() == b"ok"


async def test_initiator_refuses_an_unexpected_responder_before_revealing_itself():
    with pytest.raises(ChannelError) as error:
        await _pair(expect_peer=MALLORY.public_key)
    assert error.value.reason == "peer_mismatch"

    a2b, b2a = Wire(handshake_messages=2), Wire(handshake_messages=1)
    server = asyncio.create_task(accept(b2a.send, a2b.recv, identity=BOB, authorize=lambda key: True))
    with pytest.raises(ChannelError) as error:
        await connect(a2b.send, b2a.recv, identity=ALICE, authorize=lambda key: False)
    assert error.value.reason == "unknown_peer"
    assert len(a2b.sent) == 1  # only the ephemeral key: ALICE's static key never left
    a2b.cut()
    with pytest.raises(ChannelError) as server_error:
        await server
    assert server_error.value.reason == "handshake_failed"


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (lambda: ALICE._handshake_payload(), "does not match"),  # ALICE's signed payload, replayed by MALLORY
        (lambda: b"\xff" * 32 + MALLORY._handshake_payload()[32:], "not a valid point"),
        (lambda: MALLORY.public_key + MALLORY.signing_key.sign(b"something else").signature, "does not verify"),
        (lambda: MALLORY.public_key, "has 32 bytes"),
    ],
    ids=["replayed", "invalid-point", "bad-signature", "short"],
)
async def test_an_identity_payload_that_does_not_bind_the_static_key_is_refused(payload, says):
    """MALLORY completes the Noise handshake with her own static key but claims a key she cannot prove."""

    class Impostor(Identity):
        def _handshake_payload(self) -> bytes:
            return payload()

    asked = []
    a2b, b2a = Wire(handshake_messages=2), Wire(handshake_messages=1)
    server = asyncio.create_task(accept(b2a.send, a2b.recv, identity=BOB, authorize=asked.append))
    client = asyncio.create_task(connect(a2b.send, b2a.recv, identity=Impostor(MALLORY.signing_key)))
    with pytest.raises(ChannelError) as error:
        await server
    assert error.value.reason == "handshake_failed" and says in str(error.value)
    assert asked == []
    b2a.cut()
    with pytest.raises(ChannelError) as error:
        await client
    assert error.value.reason == "handshake_failed"


@pytest.mark.parametrize(
    ("alter", "reason"),
    [
        (_flip(at=1), "tampered"),
        (_replay(at=0), "replayed"),
        (_drop(at=1), "reordered"),
        (_swap(at=1), "reordered"),
    ],
    ids=["modified", "replayed", "dropped", "swapped"],
)
async def test_a_man_in_the_middle_ends_the_session_with_the_specific_reason(alter, reason, caplog):
    client, server, a2b, _ = await _pair()
    a2b.alter = alter
    for message in (b"first", b"second", b"third"):
        await client.send(message)
    assert await server.recv() == b"first"
    with caplog.at_level(logging.WARNING, logger="mesh.sync.channel"), pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == reason
    assert reason in caplog.text and ALICE.public_key.hex()[:16] in caplog.text
    # The session stays ended both ways: no later frame, tampered or not, is ever delivered.
    with pytest.raises(ChannelError) as again:
        await server.recv()
    assert again.value is error.value
    with pytest.raises(ChannelError):
        await server.send(b"reply")


async def test_a_modified_frame_inside_a_long_message_yields_no_plaintext():
    client, server, a2b, _ = await _pair()
    a2b.alter = _flip(at=2)
    await client.send(_data(FIRST_PART + 3 * NEXT_PART))
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "tampered"


async def test_forged_and_reflected_frames_are_tampered():
    for forged in (b"\x00" * 8 + _data(40), "a text frame", b"\x00" * 8, None):
        _, server, a2b, b2a = await _pair()
        if forged is None:  # reflect BOB's own accept frame back at him: the directions have different keys
            forged = b2a.sent[-1]
        a2b.queue.put_nowait(forged)
        with pytest.raises(ChannelError) as error:
            await server.recv()
        assert error.value.reason == "tampered"


async def test_clean_close_versus_truncation():
    client, server, a2b, _ = await _pair()
    await client.send(b"last words")
    await client.close()
    await client.close()  # idempotent
    assert await server.recv() == b"last words"
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "closed"
    await server.send(b"the other way still works")
    assert await client.recv() == b"the other way still works"
    with pytest.raises(ChannelError) as error:
        await client.send(b"after close")
    assert error.value.reason == "closed"

    client, server, a2b, _ = await _pair()
    await client.send(b"complete")
    a2b.cut()  # the connection drops: no close message
    assert await server.recv() == b"complete"
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "truncated"

    client, server, a2b, _ = await _pair()
    a2b.alter = lambda index, frame, wire: [frame] if index < 2 else []  # the rest of the message never comes
    await client.send(_data(FIRST_PART + 2 * NEXT_PART))
    a2b.cut()
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "truncated"


async def test_a_close_after_an_interrupted_send_reads_as_truncated():
    client, server, a2b, _ = await _pair()
    delivered, never = asyncio.Event(), asyncio.Event()
    plain_send = a2b.send

    async def stalling_send(frame: bytes) -> None:
        await plain_send(frame)
        if len(a2b.sent) == 4:  # the message's second frame is on the wire; the sender stalls before the third
            delivered.set()
            await never.wait()

    client._send_fn = stalling_send
    sending = asyncio.create_task(client.send(_data(FIRST_PART + 2 * NEXT_PART)))
    await delivered.wait()
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    with pytest.raises(ChannelError) as error:
        await client.send(b"a new message would corrupt the stream")
    assert error.value.reason == "malformed"
    await client.close()
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "truncated" and "closed after" in str(error.value)


async def test_sessions_have_fresh_keys_and_nonces_never_repeat():
    first_client, _, first_wire, _ = await _pair()
    second_client, _, second_wire, _ = await _pair()
    assert first_client.handshake_hash != second_client.handshake_hash  # fresh ephemeral keys each session
    for client in (first_client, second_client):
        await client.send(b"same message")
        await client.send(b"same message")
    frames = first_wire.sent[2:] + second_wire.sent[2:]
    assert len({f[8:] for f in frames}) == 4  # same keys, same plaintext: four different ciphertexts
    assert [int.from_bytes(f[:8], "big") for f in first_wire.sent[2:]] == [0, 1]


async def test_keys_roll_over_and_the_peer_follows():
    client, server, a2b, _ = await _pair()
    client.rekey_every = 3
    first_key = client._out.k
    messages = [_data(n, seed=n) for n in (10, FIRST_PART + 10, 5, 7)]  # five frames: one automatic rekey
    for message in messages:
        await client.send(message)
    for message in messages:
        assert await server.recv() == message
    assert client._out.k != first_key and server._in.k == client._out.k
    await server.rekey()
    await server.send(b"after an explicit rekey")
    assert await client.recv() == b"after an explicit rekey"
    a2b.queue.put_nowait(a2b.sent[2])  # a frame from before the rekey no longer authenticates
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "tampered"


async def test_transport_failures_end_the_session():
    client, server, _, _ = await _pair()

    async def broken_send(frame: bytes) -> None:
        raise OSError("network is unreachable")

    async def broken_recv() -> bytes:
        raise RuntimeError("the socket went away")

    client._send_fn = broken_send
    with pytest.raises(ChannelError) as error:
        await client.send(b"x")
    assert error.value.reason == "transport" and "unreachable" in str(error.value)
    server._recv_fn = broken_recv
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "transport"
    with pytest.raises(ChannelError) as error:
        await connect(broken_send, broken_recv, identity=ALICE)
    assert error.value.reason == "handshake_failed"


async def test_handshake_times_out_when_the_peer_stays_silent():
    silent = asyncio.Queue()
    with pytest.raises(ChannelError) as error:
        await connect(silent.put, asyncio.Queue().get, identity=ALICE, handshake_timeout=0.05)
    assert error.value.reason == "handshake_failed" and "0.05" in str(error.value)


async def test_queue_transport_feeds_a_session_and_ends_it():
    a2b, b2a = Wire(handshake_messages=2), Wire(handshake_messages=1)
    transport = QueueTransport(b2a.send, max_queued=2)

    async def pump():  # what a Channels consumer's receive()/disconnect() do
        while (frame := await a2b.recv()) is not None:
            await transport.feed(frame)
        transport.feed_eof()

    pumping = asyncio.create_task(pump())
    server = asyncio.create_task(accept(transport.send, transport.recv, identity=BOB, authorize=lambda key: True))
    client = await connect(a2b.send, b2a.recv, identity=ALICE)
    server = await server
    big = _data(5 * NEXT_PART)
    await client.send(big)
    a2b.cut()
    assert await server.recv() == big
    with pytest.raises(ChannelError) as error:
        await server.recv()
    assert error.value.reason == "truncated"
    await pumping


async def test_over_a_real_websocket():
    received: asyncio.Queue = asyncio.Queue()

    async def handler(ws) -> None:
        send, recv = websocket_transport(ws)
        session = await accept(send, recv, identity=BOB, authorize=lambda key: key == ALICE.public_key)
        message = await session.recv()
        await session.send(message[::-1])
        try:
            await session.recv()
        except ChannelError as exc:
            received.put_nowait(exc.reason)

    async with ws_serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with ws_connect(f"ws://127.0.0.1:{port}/ws/mesh/sync/", compression=None) as ws:
            send, recv = websocket_transport(ws)
            session = await connect(send, recv, identity=ALICE, expect_peer=BOB.public_key)
            message = _data(3 * NEXT_PART)
            await session.send(message)
            assert await session.recv() == message[::-1]
            await session.close()
            assert await asyncio.wait_for(received.get(), 5) == "closed"


def test_the_channel_imports_nothing_from_django():
    code = "import sys, mesh.sync.channel, mesh.sync.transport; print(sorted(m for m in sys.modules if m.startswith('django')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout.strip() == "[]"


class _ReversingConsumer(AsyncWebsocketConsumer):
    """A Channels consumer serving the channel through QueueTransport, as the Portals endpoint does."""

    channel_layer_alias = None  # as mesh.sync.links.SyncConsumer: no channel-layer name

    async def connect(self) -> None:
        await self.accept()
        self.transport = QueueTransport(lambda data: self.send(bytes_data=data))
        self.serving = asyncio.create_task(self.serve())

    async def serve(self) -> None:
        session = await accept(self.transport.send, self.transport.recv, identity=BOB, authorize=lambda key: True)
        try:
            while True:
                await session.send((await session.recv())[::-1])
        except ChannelError as exc:
            self.scope["ended"].put_nowait(exc.reason)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.transport.feed(bytes_data if bytes_data is not None else text_data)

    async def disconnect(self, code) -> None:
        self.transport.feed_eof()


# Channels closes stale database connections before it dispatches each message (aclose_old_connections), so the
# consumer reaches the database layer although it never queries: without the mark that raises whenever an earlier
# test left a connection open in the worker thread.
@pytest.mark.django_db
async def test_a_channels_consumer_serves_the_channel_through_a_queue_transport():
    ended: asyncio.Queue = asyncio.Queue()
    communicator = WebsocketCommunicator(_ReversingConsumer.as_asgi(), "/ws/mesh/sync/")
    communicator.scope["ended"] = ended
    connected, _ = await communicator.connect()
    assert connected

    async def send(data: bytes) -> None:
        await communicator.send_to(bytes_data=data)

    async def recv() -> bytes:
        return await communicator.receive_from(timeout=5)

    session = await connect(send, recv, identity=ALICE, expect_peer=BOB.public_key)
    message = _data(2 * NEXT_PART)
    await session.send(message)
    assert await session.recv() == message[::-1]
    await session.close()
    try:
        assert await asyncio.wait_for(ended.get(), 10) == "closed"
    except TimeoutError:
        app = communicator.future
        pytest.fail(f"the consumer did not see the close; consumer ended: {app.done()}, "
                    f"with: {app.exception() if app.done() and not app.cancelled() else None!r}")  # fmt: skip
    await communicator.disconnect()
