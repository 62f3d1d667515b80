"""Missions forecast above the approval threshold wait for an operator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.errors import AgentsError
from agents.models import Mission
from agents.services import mission_approve, mission_create, mission_run

pytestmark = pytest.mark.django_db


def test_a_mission_above_the_threshold_waits_then_runs_once_approved(settings, fake_openai, tester, olivia):
    settings.MISSION_APPROVAL_USD = Decimal("0.01")
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "expensive"})
    assert mission.status == Mission.Status.AWAITING_APPROVAL
    assert mission.forecast_usd > Decimal("0.01")
    assert mission_run(mission_id=mission.pk) is None  # a worker will not start it
    assert fake_openai.requests == []
    mission = mission_approve(mission=mission, by=olivia)
    assert (mission.status, mission.approved_by) == (Mission.Status.QUEUED, olivia)
    mission = mission_run(mission_id=mission.pk)
    assert mission.status == Mission.Status.SUCCEEDED
    with pytest.raises(AgentsError, match="only missions awaiting approval") as caught:
        mission_approve(mission=mission, by=olivia)
    assert caught.value.code == "not_awaiting_approval"


def test_a_mission_below_the_threshold_is_queued(fake_openai, tester):
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "cheap"})
    assert mission.status == Mission.Status.QUEUED
    assert mission.forecast_usd < Decimal("1.00")
