"""The operator overview shows what needs action across commerce, missions and the log, each linked."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_overview_lists_work_waiting_for_operators(client, olivia, alice, settings):
    from agents.models import Agent, Mission
    from commerce.demo import demo_catalog_load
    from commerce.models import ComplianceFlag, Membership
    from commerce.services import company_create, order_transition, quote_execute, quote_lock, spot_refresh

    demo_catalog_load()
    spot_refresh()
    company = company_create(slug="acme", name="Acme", verified=True)
    Membership.objects.create(company=company, user=alice)
    quote = quote_lock(company=company, by=alice, lines=[("xau-coin-maple-1oz", 1)])
    waiting = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    quote = quote_lock(company=company, by=alice, lines=[("xau-coin-maple-1oz", 1)])
    paid = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    settings.COMPLIANCE_THRESHOLD_USD = 1
    order_transition(order=paid, to="paid")
    agent = Agent.objects.filter(status="active").first()
    mission = Mission.objects.create(agent=agent, kind="task", input={"prompt": "x"}, status="awaiting_approval")

    client.force_login(olivia)
    page = client.get("/console/").content.decode()
    assert waiting.number in page and paid.number in page
    assert f"/admin/commerce/order/{waiting.pk}/change/" in page
    assert ComplianceFlag.objects.filter(cleared_at__isnull=True).exists()
    assert "Compliance flag: Acme" in page
    assert f"/console/missions/{mission.pk}/" in page
    assert "Checkpoint signed" in page or "No checkpoint yet" in page
    assert 'data-stat="events_sealed"' in page


def test_a_quiet_node_says_nothing_needs_attention(client, olivia, settings):
    settings.HEALTH_MIN_FREE_MB = 0
    client.force_login(olivia)
    page = client.get("/console/").content.decode()
    assert "No mission running." in page
    assert "None." in page
