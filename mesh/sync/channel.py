"""The encrypted channel between two nodes: a Noise XX handshake on the nodes' identity keys, then framed messages.

Handshake: ``Noise_XX_25519_ChaChaPoly_BLAKE2b`` (the ``noiseprotocol`` package) with the prologue
``PROLOGUE``. Each node's X25519 static key is derived from its Ed25519 identity key (libsodium's conversion);
each side's handshake payload carries its Ed25519 public key and an Ed25519 signature over ``PROLOGUE`` and its
X25519 static key. The other side checks that the Ed25519 key converts to the static key the handshake proved
and that the signature verifies, then asks its ``authorize`` callback (known peer, not quarantined). The
initiator checks the responder (``expect_peer``, ``authorize``) before it reveals its own identity in the third
message; the responder answers with an authenticated accept or refuse frame before any application data, so
``connect`` returns only once the responder has accepted. Ephemeral keys are fresh per session (forward
secrecy); the transport keys are the Noise split of that handshake.

Frames (after the handshake): ``seq`` (8 bytes, big-endian, also the associated data) then the ChaChaPoly
ciphertext under Noise's nonce ``seq``. Each direction counts from 0 and a frame must carry exactly the next
number, so a replayed, reordered, dropped or modified frame ends the session with a specific ``reason``.
Plaintexts start with a type byte: START (u64 total length, first part), CONT (next part), CLOSE (the sender is
done), ACCEPT / REFUSE (the responder's verdict), REKEY (the sender's next frame uses Noise's ``REKEY(k)``; sent
every ``REKEY_EVERY`` frames, so a key stolen from memory does not open earlier frames). Messages up to
``MAX_MESSAGE`` are split to fit Noise's 65,535-byte limit and reassembled. A stream that ends without CLOSE is
``truncated``.

The module is transport-agnostic: it takes async ``send(bytes)`` and ``recv() -> bytes`` callables; ``recv``
signals the end of the stream by returning ``None`` (or ``b""``) or raising ``EOFError`` / ``ConnectionError``
(any other exception ends the session as ``transport``). ``mesh.sync.transport`` adapts websockets to this. No
Django import, so tools and tests use it without a configured project.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidTag
from noise.connection import Keypair, NoiseConnection

logger = logging.getLogger(__name__)

PROTOCOL_NAME = b"Noise_XX_25519_ChaChaPoly_BLAKE2b"
PROLOGUE = b"dreamnet mesh sync channel v1"

NOISE_MAX = 65_535  # Noise's limit on one message (ciphertext with its tag)
TAG_LEN = 16
SEQ_LEN = 8
MAX_FRAME = SEQ_LEN + NOISE_MAX
MAX_PLAINTEXT = NOISE_MAX - TAG_LEN  # type byte and body
MAX_MESSAGE = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 30.0

REKEY_EVERY = 65_536  # frames (about 4 GiB) between rekeys of a direction's key

# Frame types (first plaintext byte).
START, CONT, CLOSE, ACCEPT, REFUSE, REKEY = 1, 2, 3, 4, 5, 6
_U64 = struct.Struct(">Q")
FIRST_PART = MAX_PLAINTEXT - 1 - _U64.size  # message bytes in a START frame
NEXT_PART = MAX_PLAINTEXT - 1  # message bytes in a CONT frame

_PAYLOAD_LEN = 32 + 64  # Ed25519 public key, signature over PROLOGUE + X25519 static key

Send = Callable[[bytes], Awaitable[object]]
Recv = Callable[[], Awaitable[bytes | None]]
Authorize = Callable[[bytes], bool | Awaitable[bool]]

# Every reason a session can end with; ``ChannelError.reason`` is one of these.
REASONS = (
    "handshake_failed",  # the peer did not complete a valid Noise XX handshake (or timed out)
    "peer_mismatch",  # the responder is not the pinned ``expect_peer``
    "unknown_peer",  # our ``authorize`` refused the peer's key
    "refused",  # the responder's ``authorize`` refused our key
    "tampered",  # a frame failed authentication (modified, forged, cut short) or was not a binary frame
    "replayed",  # an authentic frame arrived again (its number was already taken)
    "reordered",  # an authentic frame arrived ahead of its turn: one before it was dropped or they were swapped
    "truncated",  # the stream ended (or was closed) before a close message or in the middle of a message
    "malformed",  # an authentic frame that breaks the framing rules (a faulty peer)
    "too_large",  # a message over MAX_MESSAGE
    "transport",  # sending or receiving failed (other than the stream ending)
    "closed",  # the peer closed cleanly (recv), or this side already closed (send)
)


class ChannelError(Exception):
    """The channel failed or ended; ``reason`` is one of ``REASONS`` and ``str(e)`` a one-line explanation."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """A node's Ed25519 identity key (``mesh.identity.node_identity().signing_key`` on a node)."""

    signing_key: nacl.signing.SigningKey

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        return cls(nacl.signing.SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return bytes(self.signing_key.verify_key)

    def x25519_private(self) -> bytes:
        """The X25519 private key derived from the Ed25519 key (libsodium's conversion)."""
        return nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(bytes(self.signing_key) + self.public_key)

    def x25519_public(self) -> bytes:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(self.public_key)

    def _handshake_payload(self) -> bytes:
        return self.public_key + self.signing_key.sign(PROLOGUE + self.x25519_public()).signature


def _label(key: bytes | None) -> str:
    return key.hex()[:16] if key else "unidentified peer"


def _fail(reason: str, message: str, *, peer: bytes | None = None) -> ChannelError:
    """Log a session's end and return the error to raise."""
    level = logging.INFO if reason == "closed" else logging.WARNING
    logger.log(level, "sync channel with %s ended: %s: %s", _label(peer), reason, message)
    return ChannelError(reason, message)


def _peer_from_payload(payload: bytes, remote_static: bytes) -> bytes:
    """Return the Ed25519 key in a handshake payload after checking it against the proven X25519 static key."""
    if len(payload) != _PAYLOAD_LEN:
        raise _fail("handshake_failed", f"The handshake payload has {len(payload)} bytes, not {_PAYLOAD_LEN}.")
    key, signature = bytes(payload[:32]), bytes(payload[32:])
    try:
        converted = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(key)
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise _fail("handshake_failed", f"The peer's Ed25519 key is not a valid point: {exc}.", peer=key) from exc
    if converted != remote_static:
        raise _fail("handshake_failed", "The peer's Ed25519 key does not match its handshake static key.", peer=key)
    try:
        nacl.signing.VerifyKey(key).verify(PROLOGUE + remote_static, signature)
    except nacl.exceptions.BadSignatureError as exc:
        raise _fail("handshake_failed", "The peer's key signature over its static key does not verify.",
                    peer=key) from exc  # fmt: skip
    return key


def _noise(identity: Identity, *, initiator: bool) -> NoiseConnection:
    noise = NoiseConnection.from_name(PROTOCOL_NAME)
    noise.set_prologue(PROLOGUE)
    if initiator:
        noise.set_as_initiator()
    else:
        noise.set_as_responder()
    noise.set_keypair_from_private_bytes(Keypair.STATIC, identity.x25519_private())
    noise.start_handshake()
    return noise


async def _send_handshake(send: Send, message: bytearray, peer: bytes | None = None) -> None:
    try:
        await send(bytes(message))
    except Exception as exc:
        raise _fail("handshake_failed", f"Sending a handshake message failed: {exc!r}.", peer=peer) from exc


async def _recv_handshake(recv: Recv, peer: bytes | None = None) -> bytes:
    try:
        data = await recv()
    except Exception as exc:
        raise _fail("handshake_failed", f"The peer hung up during the handshake ({exc!r}).", peer=peer) from exc
    if not data:
        raise _fail("handshake_failed", "The peer hung up during the handshake.", peer=peer)
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) > NOISE_MAX:
        raise _fail("handshake_failed", "The peer sent something that is not a Noise handshake message.", peer=peer)
    return bytes(data)


def _read_handshake(noise: NoiseConnection, data: bytes, peer: bytes | None = None) -> tuple[bytes, bytes | None]:
    """Read one handshake message; return its payload and the remote static key the handshake holds now."""
    state = noise.noise_protocol.handshake_state  # read before read_message: the last message discards it
    try:
        payload = bytes(noise.read_message(data))
    except Exception as exc:  # noiseprotocol and cryptography raise several types for a bad message
        raise _fail("handshake_failed", f"The handshake message does not verify ({type(exc).__name__}).",
                    peer=peer) from exc  # fmt: skip
    remote = getattr(state, "rs", None)
    return payload, getattr(remote, "public_bytes", None)


async def connect(
    send: Send,
    recv: Recv,
    *,
    identity: Identity,
    expect_peer: bytes | None = None,
    authorize: Authorize | None = None,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
) -> Session:
    """Open a session as the initiator; return it once the responder has proven its key and accepted ours.

    The responder's key must equal ``expect_peer`` when given (``peer_mismatch``) and pass ``authorize`` when
    given (``unknown_peer``); both are checked before this node's identity is sent. Raises ``ChannelError``.
    """
    noise = _noise(identity, initiator=True)
    try:
        async with asyncio.timeout(handshake_timeout):
            await _send_handshake(send, noise.write_message(b""))  # -> e
            payload, remote_static = _read_handshake(noise, await _recv_handshake(recv))  # <- e, ee, s, es
            peer = _peer_from_payload(payload, remote_static or b"")
            if expect_peer is not None and peer != bytes(expect_peer):
                raise _fail("peer_mismatch", f"The peer's key {_label(peer)} is not the expected "
                            f"{_label(bytes(expect_peer))}.", peer=peer)  # fmt: skip
            if authorize is not None and not await _ask(authorize, peer):
                raise _fail("unknown_peer", f"The peer {_label(peer)} is unknown or quarantined here.", peer=peer)
            await _send_handshake(send, noise.write_message(identity._handshake_payload()), peer)  # -> s, se
            session = Session(noise, send, recv, peer_key=peer, initiator=True)
            await session._read_verdict()
    except TimeoutError as exc:
        raise _fail("handshake_failed", f"The handshake did not finish within {handshake_timeout:g} s.") from exc
    return session


async def accept(
    send: Send,
    recv: Recv,
    *,
    identity: Identity,
    authorize: Authorize,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
) -> Session:
    """Answer a session as the responder; return it once the initiator's key is proven and authorized.

    ``authorize(ed25519_public_key)`` (a function or a coroutine function) decides before any application data;
    a refused initiator gets an authenticated refusal and this side raises ``ChannelError('unknown_peer')``.
    """
    noise = _noise(identity, initiator=False)
    try:
        async with asyncio.timeout(handshake_timeout):
            payload, _ = _read_handshake(noise, await _recv_handshake(recv))  # <- e
            if payload:
                raise _fail("handshake_failed", "The first handshake message carries an unexpected payload.")
            await _send_handshake(send, noise.write_message(identity._handshake_payload()))  # -> e, ee, s, es
            payload, remote_static = _read_handshake(noise, await _recv_handshake(recv))  # <- s, se
            peer = _peer_from_payload(payload, remote_static or b"")
            session = Session(noise, send, recv, peer_key=peer, initiator=False)
            try:
                allowed = await _ask(authorize, peer)
            except Exception:
                await session._write(bytes([REFUSE]) + b"authorization failed")
                raise
            if not allowed:
                await session._write(bytes([REFUSE]) + b"unknown or quarantined")
                raise _fail("unknown_peer", f"The peer {_label(peer)} is unknown or quarantined here.", peer=peer)
            await session._write(bytes([ACCEPT]))
    except TimeoutError as exc:
        raise _fail("handshake_failed", f"The handshake did not finish within {handshake_timeout:g} s.") from exc
    return session


async def _ask(authorize: Authorize, peer: bytes) -> bool:
    answer = authorize(peer)
    if inspect.isawaitable(answer):
        answer = await answer
    return bool(answer)


class Session:
    """An established channel: ordered, authenticated, encrypted messages both ways.

    ``send`` and ``recv`` may run concurrently (one task each way); each is serialized by its own lock. The
    first fault ends the session both ways and every later call raises the same ``ChannelError``. A received
    CLOSE ends only the peer's direction: this side may still send until it closes.
    """

    def __init__(self, noise: NoiseConnection, send: Send, recv: Recv, *, peer_key: bytes, initiator: bool) -> None:
        self.peer_key = peer_key
        self.handshake_hash = bytes(noise.get_handshake_hash())
        self.initiator = initiator
        self._out = noise.noise_protocol.cipher_state_encrypt
        self._in = noise.noise_protocol.cipher_state_decrypt
        self._send_fn = send
        self._recv_fn = recv
        self._send_lock = asyncio.Lock()
        self._recv_lock = asyncio.Lock()
        self._fault: ChannelError | None = None
        self._peer_closed: ChannelError | None = None
        self._closed = False
        self._mid_message = False  # a send was interrupted between frames of one message
        self.rekey_every = REKEY_EVERY
        self._rekeyed_at = 0  # the outbound frame number of the last rekey

    def __repr__(self) -> str:
        return f"<Session with {_label(self.peer_key)} {'initiator' if self.initiator else 'responder'}>"

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # Sending

    async def send(self, message: bytes) -> None:
        """Send one message of up to ``MAX_MESSAGE`` bytes, split into frames as needed."""
        if len(message) > MAX_MESSAGE:
            raise ChannelError("too_large", f"A message of {len(message)} bytes is over the {MAX_MESSAGE}-byte cap.")
        async with self._send_lock:
            self._check_can_send()
            view = memoryview(message)
            first, view = view[:FIRST_PART], view[FIRST_PART:]
            self._mid_message = True
            await self._write(bytes([START]) + _U64.pack(len(message)) + first)
            while view:
                part, view = view[:NEXT_PART], view[NEXT_PART:]
                await self._write(bytes([CONT]) + part)
            self._mid_message = False

    async def close(self) -> None:
        """Send the close message (idempotent); the peer's ``recv`` then raises ``ChannelError('closed')``.

        A transport failure while closing is logged, not raised: the peer then sees ``truncated``.
        """
        async with self._send_lock:
            if self._closed or self._fault is not None:
                self._closed = True
                return
            self._closed = True
            try:
                await self._write(bytes([CLOSE]))
            except ChannelError as exc:
                logger.info("sync channel with %s: the close message was not sent: %s", _label(self.peer_key), exc)

    async def rekey(self) -> None:
        """Replace this direction's key now (Noise ``REKEY``); the peer follows at the REKEY frame."""
        async with self._send_lock:
            self._check_can_send()
            await self._rekey()

    async def _rekey(self) -> None:
        await self._write_frame(bytes([REKEY]))
        self._out.rekey()
        self._rekeyed_at = self._out.n

    def _check_can_send(self) -> None:
        if self._fault is not None:
            raise self._fault
        if self._closed:
            raise ChannelError("closed", "This side has closed the session.")
        if self._mid_message:
            raise ChannelError("malformed", "An earlier send was interrupted mid-message; close the session.")

    async def _write(self, plaintext: bytes) -> None:
        await self._write_frame(plaintext)
        if self._out.n - self._rekeyed_at >= self.rekey_every:
            await self._rekey()

    async def _write_frame(self, plaintext: bytes) -> None:
        header = self._out.n.to_bytes(SEQ_LEN, "big")
        frame = header + self._out.encrypt_with_ad(header, plaintext)
        try:
            await self._send_fn(frame)
        except (asyncio.CancelledError, ChannelError):
            raise
        except Exception as exc:
            self._fault = _fail("transport", f"Sending to the peer failed: {exc!r}.", peer=self.peer_key)
            raise self._fault from exc

    # Receiving

    async def recv(self) -> bytes:
        """Return the next whole message; raise ``ChannelError`` on any fault and, after a clean close, 'closed'."""
        async with self._recv_lock:
            if self._fault is not None:
                raise self._fault
            if self._peer_closed is not None:
                raise self._peer_closed
            total: int | None = None
            parts: list[bytes] = []
            received = 0
            while True:
                kind, body = await self._read()
                if kind == START and total is None:
                    total = _U64.unpack_from(body)[0] if len(body) >= _U64.size else -1
                    if total < 0:
                        raise self._end("malformed", "A start frame is too short for its length field.")
                    if total > MAX_MESSAGE:
                        raise self._end("too_large", f"The peer announced {total} bytes, over the {MAX_MESSAGE} cap.")
                    body = body[_U64.size :]
                elif kind == CONT and total is not None:
                    pass
                elif kind == CLOSE:
                    if total is not None:
                        raise self._end("truncated", f"The peer closed after {received} of {total} message bytes.")
                    self._peer_closed = _fail("closed", "The peer closed the session.", peer=self.peer_key)
                    raise self._peer_closed
                else:
                    raise self._end("malformed", f"Unexpected frame type {kind} at this point of the stream.")
                received += len(body)
                if received > total:
                    raise self._end("malformed", f"The message runs past its announced {total} bytes.")
                parts.append(body)
                if received == total:
                    return b"".join(parts)

    async def _read_verdict(self) -> None:
        """Wait for the responder's ACCEPT; raise ``refused`` on its REFUSE."""
        try:
            kind, body = await self._read()
        except ChannelError as exc:
            if exc.reason != "truncated":
                raise
            raise self._end("handshake_failed", f"The peer hung up before accepting this node: {exc}") from exc
        if kind == REFUSE:
            why = body.decode("utf-8", "replace")[:200]
            raise self._end("refused", f"The peer {_label(self.peer_key)} refused this node's key ({why}).")
        if kind != ACCEPT:
            raise self._end("malformed", f"Expected the responder's verdict, got frame type {kind}.")

    def _end(self, reason: str, message: str) -> ChannelError:
        self._fault = _fail(reason, message, peer=self.peer_key)
        return self._fault

    async def _read(self) -> tuple[int, bytes]:
        """Read the next frame that is not a REKEY (following each REKEY); return its type and body."""
        while True:
            kind, body = await self._read_frame()
            if kind != REKEY:
                return kind, body
            if body:
                raise self._end("malformed", "A rekey frame carries a body.")
            self._in.rekey()

    async def _read_frame(self) -> tuple[int, bytes]:
        """Read, check and decrypt the next frame; return its type and body."""
        try:
            frame = await self._recv_fn()
        except (EOFError, ConnectionError) as exc:
            raise self._end("truncated", f"The stream ended before a close message ({exc!r}).") from exc
        except Exception as exc:
            raise self._end("transport", f"Receiving from the peer failed: {exc!r}.") from exc
        if frame is None or (isinstance(frame, bytes | bytearray) and not frame):
            raise self._end("truncated", "The stream ended before a close message.")
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise self._end("tampered", f"Received a {type(frame).__name__} frame, not binary.")
        frame = bytes(frame)
        if not SEQ_LEN + TAG_LEN + 1 <= len(frame) <= MAX_FRAME:
            raise self._end("tampered", f"A frame of {len(frame)} bytes cannot be a channel frame.")
        header, ciphertext = frame[:SEQ_LEN], frame[SEQ_LEN:]
        seq, due = int.from_bytes(header, "big"), self._in.n
        if seq == due:
            try:
                plaintext = self._in.decrypt_with_ad(header, ciphertext)
            except InvalidTag as exc:
                raise self._end("tampered", f"Frame {seq} failed authentication.") from exc
            return plaintext[0], plaintext[1:]
        # Out of turn: tell a genuine old or early frame from a forged one before naming the fault (under the
        # current key: a frame from before the last rekey reads as tampered).
        try:
            self._in.cipher.decrypt(self._in.k, seq, header, ciphertext)
        except InvalidTag as exc:
            raise self._end("tampered", f"Frame {seq} (frame {due} was due) failed authentication.") from exc
        if seq < due:
            raise self._end("replayed", f"Frame {seq} arrived again (frame {due} was due).")
        raise self._end("reordered", f"Frame {seq} arrived while frame {due} was due: a frame was dropped or moved.")
