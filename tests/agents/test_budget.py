"""The governor: reserve the worst case, settle the actual cost, refuse what does not fit, warn at the soft limit
and switch to the fallback model."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.budget import budget_for_month, budget_reserve, budget_settle
from agents.errors import BudgetRefused
from agents.models import BudgetEntry, Mission, ModelPrice
from agents.services import mission_create, mission_run
from mesh.models import Event
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def _mission(tester, **extra) -> Mission:
    return Mission.objects.create(
        kind="task", agent=tester, input={"prompt": "x"}, provider="openai", model="test-model", **extra
    )


def test_a_reservation_holds_the_worst_case_until_it_settles(tester):
    mission = _mission(tester)
    reservation = budget_reserve(
        mission=mission, model="test-model", fallback_model="", prompt_tokens=1000, max_tokens=500
    )
    budget = budget_for_month()
    assert reservation.entry.reserved_usd == Decimal("0.002000") == budget.reserved_usd
    budget_settle(entry=reservation.entry, cost=Decimal("0.001200"))
    budget.refresh_from_db()
    assert (budget.reserved_usd, budget.spent_usd) == (0, Decimal("0.001200"))
    assert BudgetEntry.objects.get().status == BudgetEntry.Status.SETTLED


def test_a_call_that_does_not_fit_the_cap_is_refused(tester):
    budget = budget_for_month()
    budget.cap_usd = Decimal("0.003")
    budget.save()
    mission = _mission(tester)
    budget_reserve(mission=mission, model="test-model", fallback_model="", prompt_tokens=1000, max_tokens=500)
    with pytest.raises(BudgetRefused, match=r"\$0.002000 does not fit this month's budget"):
        budget_reserve(mission=mission, model="test-model", fallback_model="", prompt_tokens=1000, max_tokens=500)
    assert BudgetEntry.objects.count() == 1


def test_a_mission_over_budget_stops_with_reason_budget(fake_openai, tester):
    fake_openai.script = lambda body, n: (
        200,
        completion(calls=[("mesh_verify", {"index": n})], prompt_tokens=1000, completion_tokens=100),
        {},
    )
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "go"}, budget_usd=Decimal("0.0025"))
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.STOPPED, Mission.StopReason.BUDGET)
    assert "mission's cap" in mission.error
    assert mission.cost_usd <= Decimal("0.0025")
    assert mission.receipt is not None


def test_the_agent_cap_is_enforced(tester):
    tester.monthly_cap_usd = Decimal("0.001")
    tester.save()
    with pytest.raises(BudgetRefused, match="agent tester's monthly cap"):
        budget_reserve(
            mission=_mission(tester), model="test-model", fallback_model="", prompt_tokens=1000, max_tokens=500
        )


def test_an_exhausted_budget_refuses_new_missions(fake_openai, tester):
    budget = budget_for_month()
    budget.cap_usd = Decimal("0.0001")
    budget.save()
    with pytest.raises(BudgetRefused, match="budget has"):
        mission_create(kind="task", agent_slug="tester", data={"prompt": "go"})


def test_the_soft_limit_warns_once_and_switches_to_the_fallback(django_capture_on_commit_callbacks, tester):
    ModelPrice.objects.create(
        model="cheap-model", input_per_mtok=Decimal("0.1"), cached_input_per_mtok=Decimal("0.1"),
        output_per_mtok=Decimal("0.1"), effective_from="2024-01-01",
    )  # fmt: skip
    budget = budget_for_month()
    budget.cap_usd = Decimal("0.010")
    budget.save()
    mission = _mission(tester)
    with django_capture_on_commit_callbacks(execute=True):
        first = budget_reserve(
            mission=mission, model="test-model", fallback_model="cheap-model", prompt_tokens=4000, max_tokens=2000
        )
        budget_settle(entry=first.entry, cost=Decimal("0.008"))
        second = budget_reserve(
            mission=mission, model="test-model", fallback_model="cheap-model", prompt_tokens=10, max_tokens=10
        )
        budget_reserve(
            mission=mission, model="test-model", fallback_model="cheap-model", prompt_tokens=10, max_tokens=10
        )
    assert first.entry.model == "test-model" and not first.switched_to_fallback
    assert second.entry.model == "cheap-model" and second.switched_to_fallback
    warnings = Event.objects.filter(topic="budget.soft_limit")
    assert warnings.count() == 1
    assert warnings.get().payload["soft_limit_usd"] == "0.008000"


def test_an_abandoned_reservation_is_counted_at_its_worst_case_on_resume(fake_openai, tester):
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "go"})
    budget_reserve(mission=mission, model="test-model", fallback_model="", prompt_tokens=1000, max_tokens=500)
    mission_run(mission_id=mission.pk)
    entry = BudgetEntry.objects.filter(mission=mission).order_by("created_at").first()
    assert entry.status == BudgetEntry.Status.SETTLED
    assert entry.actual_usd == entry.reserved_usd == Decimal("0.002000")
    assert "worker died" in entry.note
