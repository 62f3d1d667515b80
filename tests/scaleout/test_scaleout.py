"""Scale-out mode: two daphne web processes and two Django-Q2 clusters on one PostgreSQL and one Redis.

An event published by a worker reaches websocket clients of both web processes (Redis channel layer),
missions and compute jobs queued on the shared Redis queue are run by both clusters, each exactly once, and a
cluster worker SIGKILLed mid-mission is replaced and the mission resumed without repeating an LLM call.
The processes are real (the commands of docs/deploy.md) and use this test run's database.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import subprocess_env

pytestmark = [
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
        reason="scale-out needs PostgreSQL and Redis: set DATABASE_URL=postgres://… and REDIS_URL (CI's second pass)",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("seeded"),
    pytest.mark.timeout(150),
]
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
# A cluster as `manage.py qcluster` runs it, with the two task entry points wrapped to note which cluster ran what.
QCLUSTER = """
import os, sys, django
django.setup()
from agents import tasks as agent_tasks
from computejobs import tasks as compute_tasks
label, log = sys.argv[1], os.environ["SCALEOUT_LOG"]
def noted(kind, func):
    def run(pk):
        with open(log, "a") as f:
            f.write(f"{label} {os.getpid()} {kind} {pk}\\n")
        return func(pk)
    return run
agent_tasks.mission_run_task = noted("mission", agent_tasks.mission_run_task)
compute_tasks.compute_job_task = noted("compute", compute_tasks.compute_job_task)
from agents.services import run as services
store, marker = services._step_store, os.environ["SCALEOUT_KILL_MARKER"]
def store_or_die(mission, seq, *rest):  # once armed, the first worker to reach step 2 dies there
    if seq == 2 and os.path.exists(marker + ".armed"):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), 9)
    return store(mission, seq, *rest)
services._step_store = store_or_die
from django.core.management import call_command
call_command("qcluster")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).close()
    except urllib.error.HTTPError:
        return True  # answering, even if a probe is red
    except OSError:
        return False
    return True


@pytest.fixture
def node(tmp_path):
    """Start 2 web + 2 cluster processes; yield their ports and the run log; SIGKILL them all at the end."""
    from django_q.brokers import get_broker
    from django_q.models import Schedule

    Schedule.objects.all().delete()  # this test is about the queue; the periodic pumps would hold workers
    get_broker().purge_queue()  # tasks other tests left in the shared Redis queue name rows that are gone
    log = tmp_path / "runs.log"
    log.touch()
    # The same SECRET_KEY as this process: Django-Q2 signs the tasks this test queues with it.
    env = subprocess_env(SCALEOUT_LOG=str(log), DREAMNET_Q_WORKERS="2", SECRET_KEY=settings.SECRET_KEY,
                         SCALEOUT_KILL_MARKER=str(tmp_path / "kill"), DREAMNET_MISSION_LEASE_S="5")  # fmt: skip
    ports = [_free_port(), _free_port()]
    procs = [
        *(
            subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "dreamnet.asgi:application"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"web-{n}.err").open("w"),
                start_new_session=True,
            )
            for n, port in enumerate(ports)
        ),
        *(
            subprocess.Popen(
                [sys.executable, "-c", QCLUSTER, label], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                stderr=(tmp_path / f"cluster-{label}.err").open("w"), start_new_session=True,
            )
            for label in ("a", "b")
        ),
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (all(_answers(port) for port in ports) and all(_cluster_running(tmp_path, x) for x in "ab")):
            assert all(p.poll() is None for p in procs), "a scale-out process exited while starting"
            assert time.monotonic() < deadline, f"the processes were not all up within {START_TIMEOUT_S} s"
            time.sleep(0.5)
        yield {"ports": ports, "log": log, "clusters": procs[2:], "tmp": tmp_path}
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):  # the whole group: a cluster's workers too
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        connection.close()


def _cluster_running(tmp_path: Path, label: str) -> bool:
    """Django-Q2 logs "Q Cluster <name> [<queue>] running." once its workers and pusher are up."""
    return " running." in (tmp_path / f"cluster-{label}.err").read_text()


def _runs(log: Path) -> list[tuple[str, int, str, int]]:
    return [(a, int(b), c, int(d)) for a, b, c, d in (line.split() for line in log.read_text().splitlines())]


def test_a_worker_event_reaches_websocket_clients_of_both_web_processes(node):
    from django_q.tasks import async_task
    from websockets.sync.client import connect

    from mesh.models import Event

    with ExitStack() as stack:
        clients = [stack.enter_context(connect(f"ws://127.0.0.1:{port}/ws/status/")) for port in node["ports"]]
        for client in clients:
            assert json.loads(client.recv(timeout=10))["type"] == "health"  # subscribed to the status group
        nonce = secrets.token_hex(8)
        # Queued on Redis; whichever cluster takes it publishes from its worker process, not from this one.
        async_task("mesh.publish", "status.scaleout", {"nonce": nonce})
        for client in clients:
            deadline = time.monotonic() + 30
            while True:
                message = json.loads(client.recv(timeout=max(0.1, deadline - time.monotonic())))
                if message["type"] == "event" and message["event"]["topic"] == "status.scaleout":
                    break
            assert message["event"]["payload"] == {"nonce": nonce}
    assert Event.objects.filter(topic="status.scaleout").count() == 1


def test_missions_and_compute_jobs_spread_over_both_clusters_and_run_once(node):
    from agents.models import LlmCall, Mission
    from agents.services import mission_create
    from computejobs.models import ComputeJob
    from computejobs.services import job_create
    from mesh.models import Receipt

    missions = [
        mission_create(kind="task", agent_slug="orchestrator", data={"prompt": f"Gold spot price, run {n}."})
        for n in range(6)
    ]
    jobs = [
        job_create(kind="montecarlo", params={"spot": 2000, "paths": 2000, "steps": 4, "seed": n}) for n in range(4)
    ]
    deadline = time.monotonic() + 90
    while True:
        done_m = Mission.objects.filter(pk__in=[m.pk for m in missions], status=Mission.Status.SUCCEEDED).count()
        done_j = ComputeJob.objects.filter(pk__in=[j.pk for j in jobs], status=ComputeJob.Status.SUCCEEDED).count()
        if (done_m, done_j) == (len(missions), len(jobs)):
            break
        errors = "".join((node["tmp"] / f"cluster-{x}.err").read_text()[-1500:] for x in "ab")
        assert time.monotonic() < deadline, f"{done_m}/6 missions, {done_j}/4 jobs done; clusters said: {errors}"
        assert all(p.poll() is None for p in node["clusters"]), errors
        time.sleep(0.5)

    runs = _runs(node["log"])
    mission_runs = [(label, pk) for label, _pid, kind, pk in runs if kind == "mission"]
    job_runs = [(label, pk) for label, _pid, kind, pk in runs if kind == "compute"]
    assert sorted(pk for _, pk in mission_runs) == sorted(m.pk for m in missions)  # each ran once
    assert sorted(pk for _, pk in job_runs) == sorted(j.pk for j in jobs)
    assert {label for label, _ in mission_runs + job_runs} == {"a", "b"}, runs  # both clusters took work
    assert len({pid for _, pid, _, _ in runs}) >= 2
    for mission in missions:
        assert LlmCall.objects.filter(mission=mission).count() == Mission.objects.get(pk=mission.pk).steps.count()
    assert Receipt.objects.filter(subject__in=[f"job:{j.pk}" for j in jobs]).count() == len(jobs)


def test_a_cluster_worker_killed_mid_mission_is_resumed_without_repeating_a_call(node, settings):
    from django.utils import timezone
    from django_q.tasks import async_task

    from agents.models import LlmCall, Mission
    from agents.services import mission_create
    from tests.agents.test_resume import PROMPT

    settings.MISSION_LEASE_S = 5  # as the processes have it
    (node["tmp"] / "kill.armed").touch()
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    deadline = time.monotonic() + 60
    while not (node["tmp"] / "kill").exists():
        assert time.monotonic() < deadline, "no worker reached step 2"
        time.sleep(0.2)
    time.sleep(1)
    mission.refresh_from_db()
    assert mission.status == Mission.Status.RUNNING
    assert list(mission.steps.values_list("number", flat=True)) == [1]
    assert all(p.poll() is None for p in node["clusters"])  # the cluster replaced its dead worker

    # The minute schedule's recovery task, queued at once here, re-queues it once the dead worker's lease lapses.
    while Mission.objects.get(pk=mission.pk).lease_until > timezone.now():
        time.sleep(0.5)
    async_task("agents.tasks.missions_recover_task")
    deadline = time.monotonic() + 60
    while Mission.objects.get(pk=mission.pk).status != Mission.Status.SUCCEEDED:
        assert time.monotonic() < deadline, Mission.objects.get(pk=mission.pk).status
        time.sleep(0.5)

    mission.refresh_from_db()
    assert mission.attempts == 2
    calls = list(LlmCall.objects.filter(mission=mission).order_by("seq"))
    assert [c.seq for c in calls] == [1, 2, 3, 4]
    assert len({c.request_blake3 for c in calls}) == 4  # none repeated
    assert list(mission.steps.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert [pk for _, _, kind, pk in _runs(node["log"]) if kind == "mission"] == [mission.pk, mission.pk]
