"""Cancel: at once before the mission starts, between two LLM calls while it runs, refused once it ended."""

from __future__ import annotations

import pytest

from agents.errors import AgentsError
from agents.llm.offline import OfflineProvider
from agents.models import LlmCall, Mission
from agents.services import mission_cancel, mission_create, mission_run

pytestmark = pytest.mark.django_db
PROMPT = "Gold spot price, gold bars in the catalog, and verify entry 0."


def test_a_queued_mission_is_cancelled_at_once_and_never_runs():
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    mission = mission_cancel(mission=mission)
    assert (mission.status, mission.stop_reason) == (Mission.Status.CANCELLED, Mission.StopReason.CANCELLED)
    assert mission.receipt.status == "cancelled"
    assert mission_run(mission_id=mission.pk) is None
    assert not LlmCall.objects.exists()


class CancelDuringFirstCall(OfflineProvider):
    """The operator presses cancel while the first call is in flight."""

    def complete(self, request):
        if not LlmCall.objects.exists():
            mission_cancel(mission=Mission.objects.get())
        return super().complete(request)


def test_a_running_mission_stops_before_its_next_call():
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    mission = mission_run(mission_id=mission.pk, provider=CancelDuringFirstCall())
    assert (mission.status, mission.stop_reason) == (Mission.Status.CANCELLED, Mission.StopReason.CANCELLED)
    assert LlmCall.objects.count() == 1
    assert mission.steps.count() == 1  # the call in flight finished its step; no further call was made


def test_an_ended_mission_cannot_be_cancelled():
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": PROMPT})
    mission = mission_run(mission_id=mission.pk)
    with pytest.raises(AgentsError, match="already ended") as caught:
        mission_cancel(mission=mission)
    assert caught.value.status == 409
