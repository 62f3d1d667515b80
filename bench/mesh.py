"""StarBridge benchmark: sealing cost, proof latency, and the signing reference, measured in one run.

    .venv/bin/python bench/mesh.py [--quick] [--json]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dreamnet .venv/bin/python bench/mesh.py --quick --json

Runs on a throw-away SQLite database in a temporary DREAMNET_HOME, or with DATABASE_URL on a fresh PostgreSQL
database created on that server and dropped at exit (never on your data). Prints:
- publish throughput (sealed events/s, one transaction each, database included) against plain inserts of the same
  Event rows, one transaction each: the sealing overhead as a ratio (rounds of each alternate, the median counts);
- ``publish_many`` of 10 events in one transaction against 10 plain inserts in one transaction;
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
from bench._common import add_arguments, database_env, emit_json  # noqa: E402


def _setup() -> str:
    home = tempfile.mkdtemp(prefix="dreamnet-bench-")
    os.environ |= {"DREAMNET_HOME": home, "DJANGO_SETTINGS_MODULE": "dreamnet.settings"}
    os.environ["DREAMNET_MESH_CHECKPOINT_TIMER"] = "false"
    os.environ.pop("REDIS_URL", None)
    database = database_env()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database


_plain_index = [10**9]


def _plain_rate(payloads: list[dict], per_transaction: int) -> float:
    from django.db import transaction
    from django.utils import timezone

    from mesh.entries import blake3_hex, canonical_json
    from mesh.models import Event

    started = time.perf_counter()
    for start in range(0, len(payloads), per_transaction):
        with transaction.atomic():
            for payload in payloads[start : start + per_transaction]:
                _plain_index[0] += 1
                Event.objects.create(
                    log_index=_plain_index[0], topic="bench.plain", payload=payload,
                    payload_blake3=blake3_hex(canonical_json(payload)), created_at=timezone.now(),
                )  # fmt: skip
    return len(payloads) / (time.perf_counter() - started)


def _sealed_rate(payloads: list[dict], per_transaction: int) -> float:
    from django.db import transaction

    import mesh

    started = time.perf_counter()
    for start in range(0, len(payloads), per_transaction):
        with transaction.atomic():
            if per_transaction == 1:
                mesh.publish("bench.sealed", payloads[start])
            else:
                mesh.publish_many([("bench.sealed", p) for p in payloads[start : start + per_transaction]])
    return len(payloads) / (time.perf_counter() - started)


def bench_publish(n: int, per_transaction: int = 1, rounds: int = 5) -> tuple[float, float]:
    """Alternate rounds of plain inserts and sealed publishes (n each in all); return the median rates."""
    payloads = [{"number": f"PSD-{i}", "total": "2450.10", "lines": 3} for i in range(n // rounds)]
    _plain_rate(payloads[:20], per_transaction)  # warm-up: statement caches, the sequencer row
    _sealed_rate(payloads[:20], per_transaction)
    plain, sealed = [], []
    for _ in range(rounds):
        plain.append(_plain_rate(payloads, per_transaction))
        sealed.append(_sealed_rate(payloads, per_transaction))
    return statistics.median(plain), statistics.median(sealed)


def _build_tree(size: int) -> None:
    """Store a tree of ``size`` random leaves directly (building 10^6 through publish would take minutes)."""
    from django.db import connection

    from mesh import merkle
    from mesh.models import TreeNode

    if connection.vendor == "postgresql":  # the append-only trigger refuses DELETE; TRUNCATE is the deliberate wipe
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(TreeNode._meta.db_table)}")
    else:
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
    add_arguments(parser)
    args = parser.parse_args()
    random.seed(1)
    database = _setup()
    from django.db import connection

    print(f"database: {connection.vendor}")

    sign_rate = bench_sign()
    print(f"reference: PyNaCl Ed25519 sign          {sign_rate:12,.0f} signatures/s")

    plain, sealed = bench_publish(500 if args.quick else 2000)
    print(f"plain Event insert (1 tx each)          {plain:12,.0f} rows/s")
    print(f"mesh.publish, sealed (1 tx each)        {sealed:12,.0f} events/s")
    print(f"sealing cost: plain/sealed              {plain / sealed:12.2f} x   (aim: at most 2x)")
    print(f"sealed publish vs one signature         {sign_rate / sealed:12.2f} x the time of a signature")
    plain_many, sealed_many = bench_publish(500 if args.quick else 2000, per_transaction=10)
    print(f"plain Event inserts (10 per tx)         {plain_many:12,.0f} rows/s")
    print(f"mesh.publish_many (10 per tx)           {sealed_many:12,.0f} events/s")
    print(f"sealing cost in batches: plain/sealed   {plain_many / sealed_many:12.2f} x")

    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    base = None
    proof_ratios = {}
    for size in sizes:
        ms = bench_proofs(size)
        base = base or ms
        proof_ratios[f"proof_10e{len(str(size)) - 1}_cost_vs_10e4"] = ms / base
        print(f"inclusion proof at {size:>9,} leaves   {ms:9.3f} ms median   ({ms / base:.2f}x the 10^4 time)")
    print("proof time should grow like log n: 10^6 is 1.5x the depth of 10^4")
    emit_json(
        args,
        database,
        {
            "publish_vs_insert": plain / sealed,
            "publish_many_vs_insert": plain_many / sealed_many,
            "publish_cost_vs_signature": sign_rate / sealed,
            **proof_ratios,
        },
    )


if __name__ == "__main__":
    main()
