"""`manage.py mission_replay ID` re-runs a mission from its cassette, offline, and gets the same output."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.models import Mission
from agents.services import mission_create, mission_replay, mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def _replay(mission_id: int) -> str:
    out = StringIO()
    call_command("mission_replay", str(mission_id), stdout=out)
    return out.getvalue()


def test_an_offline_mission_replays_identically():
    mission = mission_create(kind="brief", agent_slug="analyst", data={"metals": ["gold", "silver"]})
    mission = mission_run(mission_id=mission.pk)
    assert mission.status == Mission.Status.SUCCEEDED
    assert "3 call(s) replayed offline; output identical" in _replay(mission.pk)


def test_a_recorded_openai_mission_replays_with_the_server_gone(settings, tester):
    from tests.agents.conftest import FakeOpenAI

    with FakeOpenAI() as server:
        settings.LLM_PROVIDER, settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "openai", "sk-test", server.url
        settings.LLM_MAX_RETRIES = 0

        def script(body, n):
            if n == 1:
                return 200, completion(calls=[("spot_prices", {"metals": ["gold"]})]), {}
            return 200, completion(content="Gold: feed unavailable, so no price is quoted."), {}

        server.script = script
        mission = mission_run(mission_id=mission_create(kind="task", agent_slug="tester", data={"prompt": "gold?"}).pk)
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens: any network call would fail
    result = mission_replay(mission=mission)
    assert result["matches"] and result["calls"] == 2
    assert result["text"] == "Gold: feed unavailable, so no price is quoted."


def test_a_tampered_output_fails_the_replay():
    mission = mission_run(
        mission_id=mission_create(kind="task", agent_slug="orchestrator", data={"prompt": "gold spot"}).pk
    )
    Mission.objects.filter(pk=mission.pk).update(output={"text": "something else"})
    with pytest.raises(CommandError, match="differs from the stored output"):
        _replay(mission.pk)
