"""The statements one offline two-turn mission run costs (issue 20): pinned, so a regression shows.

An offline ``task`` mission about the gold spot price takes two turns (a spot-prices tool call, then the answer).
Its run is: the claim with ``mission.started`` (one transaction); per turn the cassette read, the reservation,
the call's record with its settlement, the step with ``mission.step.finished`` (three transactions); the finish
with its artifact, receipt and ``mission.finished`` (one); the foundry's telemetry (one UPDATE). The first mission
of the process creates the month's budget row and the agent's telemetry row, so a second one is measured.
"""

from __future__ import annotations

import pytest

from agents.models import Mission
from agents.services import mission_create, mission_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]
STATEMENTS = 71  # BEGIN and COMMIT included, on SQLite and PostgreSQL alike; 106 before the statement diet
TRANSACTIONS = 8  # 14 before


def _mission(n: int) -> Mission:
    # A prompt of its own, so that its answer is a new artifact (the same text would be deduplicated).
    return mission_create(kind="task", agent_slug="orchestrator", data={"prompt": f"Gold spot price ({n})."})


def test_an_offline_two_turn_mission_stays_within_its_statements(django_assert_max_num_queries, settings):
    settings.LLM_PROVIDER = "offline"
    mission_run(mission_id=_mission(1).pk)  # creates the month's budget and the agent's telemetry rows
    mission = _mission(2)

    with django_assert_max_num_queries(STATEMENTS) as captured:
        mission_run(mission_id=mission.pk)

    mission.refresh_from_db()
    assert (mission.status, mission.turns) == (Mission.Status.SUCCEEDED, 2)
    begins = [q for q in captured.captured_queries if q["sql"].upper().startswith("BEGIN")]
    assert len(begins) <= TRANSACTIONS
