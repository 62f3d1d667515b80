"""StarBridge benchmark: sealing cost, proof latency, and the signing reference, measured in one run.

    .venv/bin/python bench/mesh.py [--quick]

Runs on a throw-away SQLite database in a temporary DREAMNET_HOME (never on your data). Prints:
- publish throughput (sealed events/s, one transaction each, database included) against plain inserts of the same
  Event rows, one transaction each: the sealing overhead as a ratio;
- inclusion-proof time from the stored tree at 10^4, 10^5 and 10^6 leaves (10^6 skipped with --quick), which
  should grow like log n;
- PyNaCl raw Ed25519 signing rate as the reference for what one signature costs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    home = tempfile.mkdtemp(prefix="dreamnet-bench-")
    os.environ |= {"DREAMNET_HOME": home, "DJANGO_SETTINGS_MODULE": "dreamnet.settings"}
    os.environ["DREAMNET_MESH_CHECKPOINT_TIMER"] = "false"
    for name in ("DATABASE_URL", "REDIS_URL", "DREAMNET_SQLITE_PATH"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_publish(n: int) -> tuple[float, float]:
    from django.db import transaction
    from django.utils import timezone

    import mesh
    from mesh.entries import blake3_hex, canonical_json
    from mesh.models import Event

    payloads = [{"number": f"PSD-{i}", "total": "2450.10", "lines": 3} for i in range(n)]
    started = time.perf_counter()
    for i, payload in enumerate(payloads):
        Event.objects.create(
            log_index=10**9 + i, topic="bench.plain", payload=payload,
            payload_blake3=blake3_hex(canonical_json(payload)), created_at=timezone.now(),
        )  # fmt: skip
    plain = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for payload in payloads:
        with transaction.atomic():
            mesh.publish("bench.sealed", payload)
    sealed = n / (time.perf_counter() - started)
    return plain, sealed


def _build_tree(size: int) -> None:
    """Store a tree of ``size`` random leaves directly (building 10^6 through publish would take minutes)."""
    from mesh import merkle
    from mesh.models import TreeNode

    TreeNode.objects.all().delete()
    level_hashes = [merkle.leaf_hash(random.randbytes(48)) for _ in range(size)]
    level = 0
    while level_hashes:
        batch = [TreeNode(level=level, index=i, hash=h) for i, h in enumerate(level_hashes)]
        TreeNode.objects.bulk_create(batch, batch_size=5000)
        level_hashes = [
            merkle.node_hash(level_hashes[i], level_hashes[i + 1]) for i in range(0, len(level_hashes) - 1, 2)
        ]
        level += 1


def bench_proofs(size: int, samples: int = 300) -> float:
    from mesh import merkle
    from mesh.log import DatabaseNodes

    _build_tree(size)
    reader = DatabaseNodes()
    root = merkle.root(size, reader)
    times = []
    for _ in range(samples):
        index = random.randrange(size)
        started = time.perf_counter()
        proof = merkle.inclusion_proof(index, size, reader)
        times.append(time.perf_counter() - started)
        leaf = reader.get_nodes([(0, index)])[(0, index)]
        merkle.verify_inclusion(leaf, index, size, proof, root)
    return statistics.median(times) * 1000


def bench_sign(seconds: float = 1.0) -> float:
    import nacl.signing

    key = nacl.signing.SigningKey.generate()
    message = b"x" * 120
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        key.sign(message)
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer publishes, proofs up to 10^5 leaves")
    args = parser.parse_args()
    random.seed(1)
    _setup()

    sign_rate = bench_sign()
    print(f"reference: PyNaCl Ed25519 sign          {sign_rate:12,.0f} signatures/s")

    plain, sealed = bench_publish(500 if args.quick else 2000)
    print(f"plain Event insert (1 tx each)          {plain:12,.0f} rows/s")
    print(f"mesh.publish, sealed (1 tx each)        {sealed:12,.0f} events/s")
    print(f"sealing cost: plain/sealed              {plain / sealed:12.2f} x   (aim: at most 2x)")
    print(f"sealed publish vs one signature         {sign_rate / sealed:12.2f} x the time of a signature")

    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    base = None
    for size in sizes:
        ms = bench_proofs(size)
        base = base or ms
        print(f"inclusion proof at {size:>9,} leaves   {ms:9.3f} ms median   ({ms / base:.2f}x the 10^4 time)")
    print("proof time should grow like log n: 10^6 is 1.5x the depth of 10^4")


if __name__ == "__main__":
    main()
