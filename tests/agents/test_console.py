"""The operator's mission console: list and launch with forecast, live mission page, approvals, agents, budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.budget import budget_for_month
from agents.models import Mission
from agents.services import mission_create, mission_run
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
PAGES = ["/console/missions/", "/console/missions/approvals/", "/console/agents/", "/console/budget/"]


@pytest.fixture
def operator(client, olivia):
    client.login(username="olivia", password=PASSWORD)
    return client


def test_pages_are_staff_only(client, alice):
    client.login(username="alice", password=PASSWORD)
    for page in PAGES:
        assert client.get(page).status_code == 302


def test_an_operator_launches_a_mission_and_sees_its_page(operator):
    for page in PAGES:
        assert operator.get(page).status_code == 200, page
    forecast = operator.get(
        "/console/missions/forecast", {"kind": "task", "agent": "orchestrator", "prompt": "gold spot"}
    )
    assert "Forecast: up to" in forecast.content.decode()
    response = operator.post(
        "/console/missions/", {"kind": "task", "agent": "orchestrator", "prompt": "gold spot price"}
    )
    mission = Mission.objects.get()
    assert response.url == f"/console/missions/{mission.pk}/"
    assert mission.created_via == "console"
    mission_run(mission_id=mission.pk)
    page = operator.get(response.url).content.decode()
    assert 'data-live-url="/ws/console/"' in page
    assert "Succeeded" in page and "[offline provider]" in page and "Receipt: log entry" in page
    panel = operator.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert panel.lstrip().startswith('<section id="mission-panel"')


def test_approvals_queue_approves(operator, settings):
    settings.MISSION_APPROVAL_USD = Decimal(-1)  # every forecast, even the offline provider's $0, needs approval
    mission = mission_create(kind="task", agent_slug="orchestrator", data={"prompt": "gold"})
    assert mission.status == Mission.Status.AWAITING_APPROVAL
    assert f"/console/missions/{mission.pk}/" in operator.get("/console/missions/approvals/").content.decode()
    operator.post(f"/console/missions/{mission.pk}/approve", {"next": "/console/missions/approvals/"})
    mission.refresh_from_db()
    assert mission.status == Mission.Status.QUEUED


def test_the_budget_page_sets_the_cap(operator):
    response = operator.post("/console/budget/", {"cap_usd": "75.50", "soft_limit_pct": "90"})
    assert response.status_code == 302
    budget = budget_for_month()
    assert (budget.cap_usd, budget.soft_limit_pct) == (Decimal("75.500000"), 90)
