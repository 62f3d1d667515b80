"""Telemetry traits: posted by external systems, and recomputed from DreamNet's own missions when they end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.foundry.models import AgentTelemetry
from agents.llm.offline import OfflineProvider
from agents.services import mission_create, mission_run

pytestmark = pytest.mark.django_db


def test_external_telemetry_is_ingested_and_listed(client, foundry_headers):
    payload = {"agent": "analyst", "source": "LangSmith", "success_rate": "0.9", "mean_cost_usd": "0.0123",
               "mean_latency_ms": 1800, "eval_score": "0.75", "sample_size": 40}  # fmt: skip
    response = client.post("/api/foundry/ingest", payload, content_type="application/json", headers=foundry_headers)
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "external:langsmith"
    payload["success_rate"] = "0.8"
    client.post("/api/foundry/ingest", payload, content_type="application/json", headers=foundry_headers)
    telemetry = AgentTelemetry.objects.get(agent__slug="analyst")
    assert telemetry.success_rate == Decimal("0.8000") and telemetry.sample_size == 40
    traits = {row["slug"]: row for row in client.get("/api/foundry/traits", headers=foundry_headers).json()}
    assert traits["analyst"]["telemetry"][0]["source"] == "external:langsmith"
    assert traits["analyst"]["generation"] == 0 and traits["analyst"]["prompt_sections"] >= 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"agent": "ghost"}, 404, "unknown_agent"),
        ({"success_rate": "1.5"}, 422, "bad_telemetry"),
        ({"mean_cost_usd": "-1"}, 422, "bad_telemetry"),
        ({"source": "no spaces"}, 422, "bad_source"),
    ],
)
def test_bad_telemetry_is_refused(client, foundry_headers, change, status, code):
    payload = {"agent": "analyst", "source": "ext", "success_rate": "0.5"} | change
    response = client.post("/api/foundry/ingest", payload, content_type="application/json", headers=foundry_headers)
    assert response.status_code == status and response.json()["code"] == code
    assert not AgentTelemetry.objects.exists()


def test_a_finished_mission_updates_its_agents_telemetry(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        mission = mission_create(kind="task", agent_slug="watcher", data={"prompt": "verify entry 1"})
    assert not AgentTelemetry.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        mission = mission_run(mission_id=mission.pk, provider=OfflineProvider())
    telemetry = AgentTelemetry.objects.get(agent__slug="watcher", source="missions")
    assert telemetry.sample_size == 1
    assert telemetry.success_rate == (Decimal(1) if mission.status == "succeeded" else Decimal(0))
    assert telemetry.mean_cost_usd == Decimal(0) and telemetry.mean_latency_ms is not None
