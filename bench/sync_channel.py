"""Sync channel benchmark: what the encrypted channel costs beside the bare AEAD and key agreement it is built on.

    .venv/bin/python bench/sync_channel.py [--quick] [--json]

No Django, no network: both ends run in one event loop over in-memory queues. Prints medians of:
- reference A: ChaCha20-Poly1305 (``cryptography``) sealing and opening the same bytes in 65,518-byte pieces,
  measured in the same run; the channel's bulk path (a 16 MiB message: split, seal, queue, open, reassemble) as
  throughput and as a ratio to it;
- small messages (1 KiB) sent and received one at a time, per message, against sealing and opening 1 KiB;
- reference B: one X25519 key agreement; the whole Noise XX handshake with both sides' key checks and the verdict
  (connect + accept), as a ratio to it.
With ``--json`` the last line is one JSON object of the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305  # noqa: E402

from mesh.sync.channel import MAX_MESSAGE, NEXT_PART, Identity, accept, connect  # noqa: E402

ALICE = Identity.from_seed(b"a" * 32)
BOB = Identity.from_seed(b"b" * 32)


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _pair():
    a2b, b2a = asyncio.Queue(), asyncio.Queue()
    server = asyncio.create_task(accept(b2a.put, a2b.get, identity=BOB, authorize=lambda key: True))
    client = await connect(a2b.put, b2a.get, identity=ALICE, expect_peer=BOB.public_key)
    return client, await server


CIPHER = ChaCha20Poly1305(os.urandom(32))


def _aead_round(data: bytes, piece: int, cipher: ChaCha20Poly1305 = CIPHER) -> None:
    view = memoryview(data)
    for n, start in enumerate(range(0, len(data), piece)):
        nonce = n.to_bytes(12, "little")
        cipher.decrypt(nonce, cipher.encrypt(nonce, view[start : start + piece], None), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of ratios")
    args = parser.parse_args()
    repeats = 5 if args.quick else 20
    small_count = 200 if args.quick else 1000
    loop = asyncio.new_event_loop()
    client, server = loop.run_until_complete(_pair())

    big = os.urandom(MAX_MESSAGE)
    small = os.urandom(1024)

    async def bulk() -> None:
        await client.send(big)
        assert len(await server.recv()) == len(big)

    async def smalls() -> None:
        for _ in range(small_count):
            await client.send(small)
            await server.recv()

    aead_bulk = _median_s(lambda: _aead_round(big, NEXT_PART), repeats)
    channel_bulk = _median_s(lambda: loop.run_until_complete(bulk()), repeats)
    aead_small = _median_s(lambda: [_aead_round(small, 1024) for _ in range(small_count)], repeats) / small_count
    channel_small = _median_s(lambda: loop.run_until_complete(smalls()), repeats) / small_count

    peer_public = X25519PrivateKey.generate().public_key()
    x25519 = _median_s(lambda: X25519PrivateKey.generate().exchange(peer_public), repeats * 20)
    handshake = _median_s(lambda: loop.run_until_complete(_pair()), repeats * 4)
    loop.close()

    mib = len(big) / 2**20
    print(
        f"reference A: ChaCha20-Poly1305 seal+open, 16 MiB   {aead_bulk * 1000:>9.2f} ms  {mib / aead_bulk:>8.0f} MiB/s"
    )
    print(
        f"channel: one 16 MiB message, send+recv           {channel_bulk * 1000:>9.2f} ms  "
        f"{mib / channel_bulk:>8.0f} MiB/s  {channel_bulk / aead_bulk:>6.2f}x reference A"
    )
    print(f"ChaCha20-Poly1305 seal+open, 1 KiB               {aead_small * 1e6:>9.2f} us")
    print(
        f"channel: 1 KiB message, send+recv                {channel_small * 1e6:>9.2f} us"
        f"{'':>16}{channel_small / aead_small:>6.2f}x the 1 KiB seal+open"
    )
    print(f"reference B: one X25519 key agreement (+ keygen)   {x25519 * 1e6:>9.2f} us")
    print(
        f"channel: Noise XX handshake, both sides + verdict  {handshake * 1000:>9.2f} ms"
        f"{'':>16}{handshake / x25519:>6.1f}x reference B"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "channel_16mib_message_time_over_bare_chacha20poly1305": round(channel_bulk / aead_bulk, 3),
                    "channel_1kib_message_time_over_bare_chacha20poly1305": round(channel_small / aead_small, 3),
                    "channel_handshake_time_over_one_x25519_agreement": round(handshake / x25519, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
