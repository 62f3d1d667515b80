"""/api/agents, /api/missions, /api/runs/recent and /api/budget."""

from __future__ import annotations

import pytest

from agents.models import Mission
from agents.services import mission_run
from dreamnet.apikeys import apikey_create

pytestmark = pytest.mark.django_db
PROMPT = "Gold spot price and gold bars in the catalog."


@pytest.fixture
def key():
    _key, raw = apikey_create(name="mission-bot", scopes=["missions"])
    return {"X-DREAMNET-KEY": raw}


def _launch(client, key, **body):
    return client.post(
        "/api/missions",
        {"kind": "task", "agent": "orchestrator", "prompt": PROMPT} | body,
        content_type="application/json",
        headers=key,
    )


def test_agents_are_listed_with_their_traits(client, key):
    agents = {a["slug"]: a for a in client.get("/api/agents", headers=key).json()}
    assert agents["orchestrator"]["status"] == "active"
    assert agents["codegen-coder"]["status"] == "retired"  # replaced by the codegen-* role agents
    assert agents["codegen-team"]["status"] == "active"
    assert "spot_prices" in agents["analyst"]["tools"]
    assert client.get("/api/agents/nobody", headers=key).json()["code"] == "unknown_agent"


def test_launch_list_detail_and_cancel(client, key):
    response = _launch(client, key)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["status"], created["provider"], created["model"]) == ("queued", "offline", "offline")
    mission_run(mission_id=created["id"])
    listed = client.get("/api/missions?status=succeeded", headers=key).json()
    assert [m["id"] for m in listed] == [created["id"]]
    detail = client.get(f"/api/missions/{created['id']}", headers=key).json()
    assert [s["number"] for s in detail["steps"]] == [1, 2, 3]
    assert detail["stop_reason"] == "completed"
    assert detail["receipt_index"] is not None and detail["artifact_blake3"]
    assert detail["output"]["text"].startswith("[offline provider]")
    refused = client.post(f"/api/missions/{created['id']}/cancel", headers=key)
    assert (refused.status_code, refused.json()["code"]) == (409, "not_cancellable")
    queued = _launch(client, key).json()
    cancelled = client.post(f"/api/missions/{queued['id']}/cancel", headers=key).json()
    assert (cancelled["status"], cancelled["stop_reason"]) == ("cancelled", "cancelled")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"agent": "nobody"}, 404, "unknown_agent"),
        ({"kind": "poem"}, 422, "unknown_kind"),
        ({"agent": "codegen-coder"}, 422, "agent_not_active"),
        ({"prompt": ""}, 422, "prompt_required"),
        ({"prompt": "x" * 30_000}, 422, "input_too_large"),
        ({"kind": "brief", "metals": ["copper"]}, 422, "unknown_metal"),
        ({"model": "gpt-99"}, 422, "unpriced_model"),
        ({"budget_usd": "0"}, 422, "bad_budget"),
        ({"budget_usd": "1e20"}, 422, "bad_budget"),
    ],
)
def test_bad_input_gets_a_specific_error(client, key, settings, body, status, code):
    if "model" in body:
        settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test"  # the offline provider ignores models
    response = _launch(client, key, **body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Mission.objects.exists()


def test_approve_refuses_what_is_not_waiting(client, key):
    created = _launch(client, key).json()
    response = client.post(f"/api/missions/{created['id']}/approve", headers=key)
    assert (response.status_code, response.json()["code"]) == (409, "not_awaiting_approval")


def test_recent_runs_are_public_and_reveal_no_inputs_or_outputs(client, key):
    mission_run(mission_id=_launch(client, key).json()["id"])
    runs = client.get("/api/runs/recent").json()
    assert len(runs) == 1
    assert set(runs[0]) == {"kind", "agent", "status", "stop_reason", "turns", "cost_usd", "finished_at"}
    assert PROMPT not in str(runs)


def test_budget_reports_the_month(client, key):
    body = client.get("/api/budget", headers=key).json()
    assert body["cap_usd"] == "50.000000"  # DREAMNET_LLM_BUDGET_USD's default
    assert body["soft_limit_pct"] == 80
    assert body["spent_usd"] == "0.000000"


def test_missions_need_the_missions_scope(client):
    _key, raw = apikey_create(name="shop", scopes=["commerce"])
    assert client.get("/api/missions", headers={"X-DREAMNET-KEY": raw}).status_code == 403
    assert client.get("/api/budget").status_code == 401
