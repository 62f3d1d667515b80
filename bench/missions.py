"""Missions benchmark: queue-to-start latency and missions/s with the offline provider, against a no-op Django-Q2
task on the same broker, measured in one run.

    .venv/bin/python bench/missions.py [--quick] [--missions N]

Runs on a throw-away SQLite database (with DATABASE_URL: a fresh PostgreSQL database on that server, dropped at
exit; --json ends with a line of ratios) in a temporary DREAMNET_HOME with the ORM broker (the embedded default) and
a real `manage.py qcluster` child process. Prints, for the no-op task (`time.time`) and for offline missions
(a two-turn task: one spot-prices tool call, then the answer; each stores steps, cassette rows, an artifact, a
signed receipt and its events):
- queue-to-start latency (median and p95): enqueue to the worker starting it;
- throughput: tasks or missions finished per second, from the first enqueue to the last finish;
and the ratios mission / no-op.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
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
    os.environ |= {"DREAMNET_MESH_CHECKPOINT_TIMER": "false", "DREAMNET_LLM_PROVIDER": "offline"}
    for name in ("REDIS_URL", "OPENAI_API_KEY"):
        os.environ.pop(name, None)
    database = database_env()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _wait(done, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while done() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {done()} of {n} finished")
        time.sleep(0.05)


def bench_noop(n: int) -> tuple[list[float], float]:
    from django_q.models import Task
    from django_q.tasks import async_task

    enqueued = {}
    first = time.time()
    for _ in range(n):
        at = time.time()
        enqueued[async_task("time.time", group="bench-noop")] = at
    _wait(lambda: Task.objects.filter(group="bench-noop").count(), n, 300)
    tasks = list(Task.objects.filter(group="bench-noop"))
    # The task is time.time, so its result is the moment the worker started it (Task.started is the enqueue time).
    latencies = [(t.result - enqueued[t.id]) * 1000 for t in tasks]
    return latencies, n / (max(t.stopped.timestamp() for t in tasks) - first)


def bench_missions(n: int) -> tuple[list[float], float]:
    from agents.models import Mission
    from agents.services import mission_create

    first = time.time()
    ids = [
        mission_create(kind="task", agent_slug="orchestrator", data={"prompt": f"Gold spot price, please ({i})."}).pk
        for i in range(n)
    ]
    missions = Mission.objects.filter(pk__in=ids)
    _wait(lambda: missions.filter(finished_at__isnull=False).count(), n, 600)
    rows = list(missions)
    bad = [m.pk for m in rows if m.status != Mission.Status.SUCCEEDED]
    if bad:
        raise SystemExit(f"missions {bad} did not succeed")
    latencies = [(m.started_at - m.queued_at).total_seconds() * 1000 for m in rows]
    return latencies, n / (max(m.finished_at.timestamp() for m in rows) - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 of each instead of 100.")
    parser.add_argument("--missions", type=int, default=0, help="How many of each (overrides --quick).")
    add_arguments(parser)
    args = parser.parse_args()
    n = args.missions or (20 if args.quick else 100)
    database = _setup()
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    cluster = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=os.environ.copy(), start_new_session=True
    )
    try:
        time.sleep(3)  # let the cluster start its workers
        noop_latency, noop_rate = bench_noop(n)
        mission_latency, mission_rate = bench_missions(n)
    finally:
        # As `manage.py serve` does: SIGTERM to the cluster alone (it stops its workers), then clear the group.
        cluster.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            cluster.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()
    workers = settings.Q_CLUSTER["workers"]
    print(f"database: {database}")
    print(f"Django-Q2 ORM broker, {workers} workers, poll {settings.Q_CLUSTER['poll']} s; {n} of each")
    print(f"{'measure':<34}{'no-op task':>14}{'mission':>14}{'ratio':>10}")
    for label, noop, mission in [
        ("queue-to-start median (ms)", statistics.median(noop_latency), statistics.median(mission_latency)),
        ("queue-to-start p95 (ms)", _p95(noop_latency), _p95(mission_latency)),
    ]:
        print(f"{label:<34}{noop:>14.1f}{mission:>14.1f}{mission / noop:>9.2f}x")
    print(f"{'throughput (per s)':<34}{noop_rate:>14.1f}{mission_rate:>14.1f}{mission_rate / noop_rate:>9.2f}x")
    emit_json(
        args,
        database,
        {
            "mission_start_cost_vs_noop_task": statistics.median(mission_latency) / statistics.median(noop_latency),
            "mission_start_p95_cost_vs_noop_task": _p95(mission_latency) / _p95(noop_latency),
            "missions_vs_noop_tasks": mission_rate / noop_rate,
        },
    )


if __name__ == "__main__":
    main()
