"""Loop detection and the turn limit stop an agent that would otherwise run on."""

from __future__ import annotations

import pytest

from agents.models import LlmCall, Mission
from agents.services import mission_create, mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def test_the_same_tool_call_three_times_stops_with_reason_loop(fake_openai, tester):
    fake_openai.script = lambda body, n: (200, completion(calls=[("spot_prices", {"metals": ["gold"]})]), {})
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "loop please"})
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.STOPPED, Mission.StopReason.LOOP)
    assert "spot_prices with the same arguments 3 times" in mission.error
    assert LlmCall.objects.filter(mission=mission).count() == 3
    assert [len(s.output["tool_results"]) for s in mission.steps.order_by("number")] == [1, 1, 0]  # third never ran


def test_different_arguments_are_not_a_loop_but_max_turns_stops_them(fake_openai, tester):
    fake_openai.script = lambda body, n: (200, completion(calls=[("mesh_verify", {"index": n})]), {})
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "keep going"})
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.STOPPED, Mission.StopReason.MAX_TURNS)
    assert mission.turns == tester.max_turns == len(fake_openai.requests)
    assert mission.progress == 100
