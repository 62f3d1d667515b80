"""/api/missions as clients call it: a ``missions`` key over real HTTP, no cookies, no CSRF token."""

from __future__ import annotations

import pytest

from agents.models import Mission

MISSION = {"kind": "task", "agent": "orchestrator", "prompt": "Gold spot price and gold bars in the catalog."}


@pytest.fixture
def missions(http, make_key, seeded):
    return http(key=make_key("missions"))


@pytest.mark.covers("POST /api/missions", "POST /api/missions/{mission_id}/cancel")
def test_a_key_launches_and_cancels_a_mission(missions):
    created = missions.post("/api/missions", json=MISSION)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "queued"
    cancelled = missions.post(f"/api/missions/{created.json()['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert not missions.cookies


@pytest.mark.covers("POST /api/missions/{mission_id}/approve")
def test_a_key_approves_a_mission_that_waits(missions):
    created = missions.post("/api/missions", json=MISSION).json()
    Mission.objects.filter(pk=created["id"]).update(status=Mission.Status.AWAITING_APPROVAL)
    approved = missions.post(f"/api/missions/{created['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "queued"
