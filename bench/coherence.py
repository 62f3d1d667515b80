"""Coherence view benchmark: what the 5×5 health matrix costs per heartbeat, beside the probes it summarises.

    .venv/bin/python bench/coherence.py [--quick]

Runs on a throw-away SQLite database in a temporary DREAMNET_HOME, or with DATABASE_URL on a fresh PostgreSQL
database on that server dropped at exit (never on your data); --json ends with a line of ratios. Prints medians of:
- reference: one probe round, ``health_snapshot(record=False)`` (every registered probe, a real round trip each),
  measured in the same run;
- recording that round (``health_record``: the throttle claim, the insert, the retention delete);
- the matrix alone (``coherence_matrix``, numpy) over 360 and 3600 rounds (one hour at the default 10 s sample, and
  ten hours), and ``coherence_view`` (load from the database + matrix) over 360 rounds;
- each as a ratio to the probe round, and the matrix against the 14 ns per health check the original brief claimed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import add_arguments, database_env, emit_json  # noqa: E402

CLAIMED_NS = 14


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


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _rounds(n: int) -> list[dict]:
    import random

    from dreamnet.coherence import SERVICES

    rng = random.Random(5)
    return [{name: (rng.random() > 0.05, rng.uniform(0.5, 50.0)) for name in SERVICES} for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    add_arguments(parser)
    args = parser.parse_args()
    repeats = 20 if args.quick else 100
    database = _setup()
    print(f"database: {database}")

    from datetime import timedelta

    from django.utils import timezone

    from dreamnet.coherence import coherence_matrix
    from dreamnet.health import coherence_view, health_record, health_snapshot
    from dreamnet.models import HealthSample

    probe_round = _median_s(lambda: health_snapshot(record=False), repeats)
    snapshot = health_snapshot(record=False)
    record = _median_s(lambda: health_record(snapshot, force=True), repeats)

    now = timezone.now()
    HealthSample.objects.all().delete()
    HealthSample.objects.bulk_create(
        HealthSample(
            checked_at=now - timedelta(seconds=10 * i), status="ok", results={k: list(v) for k, v in r.items()}
        )
        for i, r in enumerate(_rounds(360))
    )
    rows = {}
    for n in (360, 3600):
        data = _rounds(n)
        rows[n] = _median_s(lambda data=data: coherence_matrix(data), max(5, repeats // (n // 360)))
    view = _median_s(lambda: coherence_view(window_s=3600, now=now), max(5, repeats // 2))

    def line(label: str, seconds: float, note: str = "") -> None:
        print(f"{label:<52} {seconds * 1000:>10.3f} ms   {seconds / probe_round:>8.3f}x the probe round {note}")

    print(f"reference: one probe round (health_snapshot) {'':<7} {probe_round * 1000:>10.3f} ms       1.000x")
    line("recording it (health_record: claim, insert, retention)", record)
    line(
        "coherence_matrix over 360 rounds (numpy)",
        rows[360],
        f"= {rows[360] * 1e9 / CLAIMED_NS:,.0f}x the claimed 14 ns",
    )
    line("coherence_matrix over 3600 rounds (numpy)", rows[3600])
    line("coherence_view over 360 stored rounds (load + matrix)", view)
    per_heartbeat = record + view
    line("per heartbeat: record + coherence_view (360 rounds)", per_heartbeat)
    emit_json(
        args,
        database,
        {
            "record_cost_vs_probe_round": record / probe_round,
            "matrix_360_cost_vs_probe_round": rows[360] / probe_round,
            "matrix_3600_cost_vs_probe_round": rows[3600] / probe_round,
            "view_360_cost_vs_probe_round": view / probe_round,
            "heartbeat_cost_vs_probe_round": per_heartbeat / probe_round,
        },
    )


if __name__ == "__main__":
    main()
