"""A worker killed mid-mission (SIGKILL): the retry resumes after the last finished step, and the cassette shows
that no LLM call was made twice."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from agents.llm.offline import OfflineProvider
from agents.models import LlmCall, Mission
from agents.services import mission_create, mission_run
from tests.conftest import subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]
ROOT = Path(__file__).resolve().parents[2]
PROMPT = "Gold spot price, gold bars in the catalog, and verify entry 0."
# The worker dies right after call 2 is recorded and before step 2 is stored: the hardest point to resume from.
WORKER = """
import os, signal, sys, django
django.setup()
from agents.services import run
store = run._step_store
def store_then_die(mission, seq, *rest):
    if seq == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return store(mission, seq, *rest)
run._step_store = store_then_die
run.mission_run(mission_id=int(sys.argv[1]))
"""


class CountingProvider(OfflineProvider):
    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        return super().complete(request)


def test_a_killed_worker_resumes_after_its_last_step_without_repeating_a_call():
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    worker = subprocess.run(
        [sys.executable, "-c", WORKER, str(mission.pk)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        timeout=120,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr.decode()[-2000:]
    mission.refresh_from_db()
    assert mission.status == Mission.Status.RUNNING
    assert list(mission.steps.values_list("number", flat=True)) == [1]
    assert list(LlmCall.objects.filter(mission=mission).values_list("seq", flat=True)) == [1, 2]

    # A fresh worker may take over once the dead one's lease has lapsed.
    assert mission_run(mission_id=mission.pk) is None
    Mission.objects.filter(pk=mission.pk).update(lease_until=timezone.now())
    provider = CountingProvider()
    mission = mission_run(mission_id=mission.pk, provider=provider)

    assert (mission.status, mission.stop_reason) == (Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED)
    assert mission.attempts == 2
    calls = list(LlmCall.objects.filter(mission=mission).order_by("seq"))
    assert [c.seq for c in calls] == [1, 2, 3, 4]
    assert len({c.request_blake3 for c in calls}) == 4  # four different requests, none repeated
    assert provider.calls == 2  # calls 3 and 4; call 2 came from the cassette
    assert list(mission.steps.values_list("number", flat=True)) == [1, 2, 3, 4]
    assert [s.llm_call.seq for s in mission.steps.order_by("number")] == [1, 2, 3, 4]


def test_running_a_finished_mission_again_does_nothing():
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    mission_run(mission_id=mission.pk)
    assert mission_run(mission_id=mission.pk) is None
    assert LlmCall.objects.filter(mission=mission).count() == 4
