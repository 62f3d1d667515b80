"""/api/foundry as clients call it: a ``foundry`` key over real HTTP, no cookies, no CSRF token."""

from __future__ import annotations

import pytest

from agents.foundry.models import Hybrid
from agents.foundry.services import evaluation_start, hybrid_breed
from agents.services import mission_run
from tests.agents.conftest import fake_openai  # noqa: F401  (fixture)
from tests.foundry.test_evaluation import answer_by_system_prompt


@pytest.fixture
def foundry(http, make_key, seeded):
    return http(key=make_key("foundry"))


@pytest.mark.covers("POST /api/foundry/ingest", "POST /api/foundry/hybridize", "POST /api/foundry/evaluations")
def test_a_key_ingests_telemetry_breeds_and_starts_an_evaluation(foundry):
    telemetry = {"agent": "analyst", "source": "LangSmith", "success_rate": "0.9", "sample_size": 40}
    ingested = foundry.post("/api/foundry/ingest", json=telemetry)
    assert ingested.status_code == 201, ingested.text
    bred = foundry.post("/api/foundry/hybridize", json={"parent_a": "orchestrator", "parent_b": "analyst", "seed": "c"})
    assert bred.status_code == 201, bred.text
    hybrid = Hybrid.objects.get(child__slug=bred.json()["child"])
    started = foundry.post("/api/foundry/evaluations", json={"hybrid": hybrid.pk, "evaluation_set": "foundry-basics"})
    assert started.status_code == 201, started.text
    assert not foundry.cookies


@pytest.mark.covers("POST /api/foundry/hybrids/{hybrid_id}/promote")
def test_a_key_promotes_a_child_that_beat_its_parents(foundry, fake_openai):  # noqa: F811
    hybrid, _created = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="client")
    fake_openai.script = answer_by_system_prompt(hybrid.child.system_prompt)
    evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    for run in evaluation.runs.order_by("role"):
        mission_run(mission_id=run.mission_id)
    promoted = foundry.post(f"/api/foundry/hybrids/{hybrid.pk}/promote", json={"confirm": True})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["child_status"] == "active"
