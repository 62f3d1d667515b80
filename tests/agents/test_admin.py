"""The agents admin changes state through the services: the month's budget cap goes through the governor, and a
draft hybrid is activated only by promotion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from agents.budget import budget_for_month, month_of
from agents.foundry.services import hybrid_breed
from agents.models import Agent, Budget

pytestmark = pytest.mark.django_db


def _operator_client(olivia, page: str) -> tuple[Client, str]:
    """Return olivia's browser (CSRF enforced, as in production) and the token from ``page``."""
    olivia.is_superuser = True
    olivia.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)
    assert client.get(page).status_code == 200
    return client, client.cookies["csrftoken"].value


def test_the_admin_sets_the_cap_through_the_governor(olivia):
    budget = budget_for_month()
    Budget.objects.filter(pk=budget.pk).update(soft_warned_at=timezone.now())  # the soft limit was reached
    page = f"/admin/agents/budget/{budget.pk}/change/"
    client, token = _operator_client(olivia, page)
    response = client.post(page, {"cap_usd": "120.00", "soft_limit_pct": "90", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.cap_usd, budget.soft_limit_pct) == (Decimal("120.000000"), 90)
    # budget_cap_set re-arms the warning when the new soft limit is above what is committed; a plain save did not.
    assert budget.soft_warned_at is None


def test_the_admin_refuses_a_negative_cap(olivia):
    budget = budget_for_month()
    page = f"/admin/agents/budget/{budget.pk}/change/"
    client, token = _operator_client(olivia, page)
    response = client.post(page, {"cap_usd": "-1", "soft_limit_pct": "80", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and b"errornote" in response.content
    budget.refresh_from_db()
    assert budget.cap_usd >= 0


def test_a_past_month_is_read_only_and_no_month_is_added_by_hand(olivia):
    current = budget_for_month()
    Budget.objects.filter(pk=current.pk).update(cap_usd=Decimal("75"), soft_limit_pct=70)
    past = Budget.objects.create(month=month_of(current.month - timedelta(days=1)), cap_usd=Decimal("50"))
    page = f"/admin/agents/budget/{past.pk}/change/"
    client, token = _operator_client(olivia, page)
    client.post(page, {"cap_usd": "999", "soft_limit_pct": "10", "csrfmiddlewaretoken": token})
    past.refresh_from_db()
    current.refresh_from_db()
    assert (past.cap_usd, past.soft_limit_pct) == (Decimal("50.000000"), 80)
    assert (current.cap_usd, current.soft_limit_pct) == (Decimal("75.000000"), 70)
    assert client.get("/admin/agents/budget/add/").status_code == 403


def _form_data(response, **changes: str) -> dict[str, str]:
    """Return the admin change form's current values as POST data, with ``changes`` applied."""
    form = response.context["adminform"].form
    data = {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}
    return data | changes


def test_a_draft_hybrid_cannot_be_activated_by_editing_it(olivia):
    hybrid, _created = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="admin", mutate=False)
    page = f"/admin/agents/agent/{hybrid.child_id}/change/"
    client, token = _operator_client(olivia, page)
    data = _form_data(client.get(page), status="active", name="Renamed child", csrfmiddlewaretoken=token)
    assert client.post(page, data).status_code == 302
    child = Agent.objects.get(pk=hybrid.child_id)
    assert (child.name, child.status) == ("Renamed child", Agent.Status.DRAFT)  # other fields stay editable


def test_an_agent_that_is_no_hybrid_keeps_its_status_editable(olivia):
    agent = Agent.objects.get(slug="analyst")
    page = f"/admin/agents/agent/{agent.pk}/change/"
    client, token = _operator_client(olivia, page)
    assert (
        client.post(page, _form_data(client.get(page), status="retired", csrfmiddlewaretoken=token)).status_code == 302
    )
    agent.refresh_from_db()
    assert agent.status == Agent.Status.RETIRED
