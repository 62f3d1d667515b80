"""Market-intelligence briefs (figures checked by hand) and plans kept true by Stripe's subscription events."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from statistics import NormalDist

import pytest
from django.core.management import call_command
from django.utils import timezone

from commerce.intelligence import Point, brief_figures, realised_volatility, var_es
from commerce.models import Plan, SpotTick, StripeCustomer, Subscription
from commerce.subscriptions import brief_compute, company_has_intelligence, plan_grant
from tests.commerce.stripe_fake import FakeStripe, event, sign

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CLOSES = [100.0, 102.0, 101.0, 103.0, 104.0, 102.0, 105.0, 106.0]


def _series() -> list[Point]:
    return [Point(NOW - timedelta(days=len(CLOSES) - 1 - i), price) for i, price in enumerate(CLOSES)]


def test_volatility_is_the_annualised_stdev_of_daily_log_returns():
    returns = [math.log(b / a) for a, b in itertools.pairwise(CLOSES)]
    mean = sum(returns) / len(returns)
    by_hand = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)) * math.sqrt(365)
    assert realised_volatility(CLOSES) == pytest.approx(by_hand, rel=1e-12)
    assert realised_volatility([100.0, 101.0]) is None


def test_var_and_es_match_the_lognormal_closed_form():
    price, sigma, minutes, alpha = 2650.0, 0.16, 10.0, 0.99
    s = sigma * math.sqrt(minutes / (365 * 24 * 60))
    z = NormalDist().inv_cdf(1 - alpha)
    var, es = var_es(price=price, sigma=sigma, horizon_minutes=minutes, confidence=alpha)
    assert var == pytest.approx(price * (1 - math.exp(-(s**2) / 2 + s * z)), rel=1e-12)
    assert es == pytest.approx(price * (1 - NormalDist().cdf(z - s) / (1 - alpha)), rel=1e-12)
    assert 0 < var < es < price * 0.01  # ten minutes of gold risk is well under 1 %


def test_brief_figures_from_a_known_series():
    f = brief_figures(_series(), now=NOW, horizon_minutes=10)
    assert f["last"] == 106.0
    assert f["change_24h"] == pytest.approx(106 / 105 - 1)
    assert f["change_7d"] == pytest.approx(106 / 100 - 1)
    assert f["ma_7d"] == pytest.approx(sum(CLOSES[-7:]) / 7)
    assert f["vol_7d"] == pytest.approx(realised_volatility(CLOSES[-8:]))
    assert f["var"] > 0


@pytest.mark.django_db
def test_a_brief_is_written_from_stored_ticks_and_gated_by_subscription(client, shop, alice, olivia):
    SpotTick.objects.all().delete()
    for point in _series():
        mid = Decimal(str(point.price))
        SpotTick.objects.create(metal="XAU", bid=mid, ask=mid, source="simulated", fetched_at=point.at)
    brief = brief_compute(metal="XAU", now=NOW)
    assert brief.figures["last"] == 106.0
    assert "template" in brief.narrative_source
    assert "$106.00 per troy ounce" in brief.narrative

    anonymous = client.get("/api/commerce/intelligence").json()
    assert anonymous[0]["full"] is False
    assert set(anonymous[0]["figures"]) == {"last", "change_24h", "as_of"}
    assert anonymous[0]["narrative"] is None
    page = client.get("/metals/intelligence").content.decode()
    assert "Plans" in page and "106.00" in page

    Plan.objects.create(slug="desk", name="Desk", monthly_price=Decimal("49.00"), features="Daily brief")
    plan_grant(company=shop, plan=Plan.objects.get(), by=olivia)
    client.force_login(alice)
    full = client.get("/api/commerce/intelligence").json()
    assert full[0]["full"] is True
    assert full[0]["figures"]["vol_7d"] > 0
    assert "value-at-risk" in client.get("/metals/intelligence").content.decode()


@pytest.fixture
def stripe_plans(settings, shop):
    fake = FakeStripe()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_WEBHOOK_SECRET = (
        "sk_test",
        fake.url,
        "whsec_s",
    )
    Plan.objects.create(slug="desk", name="Desk", monthly_price=Decimal("49.00"), features="Daily brief")
    out = StringIO()
    call_command("stripe_sync_plans", stdout=out)
    assert "desk: price price_test" in out.getvalue()
    StripeCustomer.objects.create(company=shop, customer_id="cus_acme")
    yield fake
    fake.close()


def _sub_event(client, event_id, event_type, status, created, *, period_end):
    plan = Plan.objects.get()
    obj = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_acme",
        "status": status,
        "items": {"data": [{"price": {"id": plan.stripe_price_id}, "current_period_end": period_end}]},
    }
    body = event(event_id, event_type, obj).replace(
        b'"object": "event"', f'"object": "event", "created": {created}'.encode()
    )
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", headers={"Stripe-Signature": sign(body, "whsec_s")}
    )


@pytest.mark.django_db
def test_sync_creates_the_monthly_price_once(stripe_plans):
    (price,) = stripe_plans.calls("/v1/prices")
    assert price["form"]["unit_amount"] == "4900"
    assert price["form"]["recurring[interval]"] == "month"
    call_command("stripe_sync_plans", stdout=StringIO())
    assert len(stripe_plans.calls("/v1/prices")) == 1  # unchanged price: nothing new


@pytest.mark.django_db
def test_subscription_events_grant_and_revoke_access_and_never_go_backwards(client, shop, alice, stripe_plans):
    end = int((timezone.now() + timedelta(days=30)).timestamp())
    _sub_event(client, "evt_s1", "customer.subscription.created", "active", 1000, period_end=end)
    assert company_has_intelligence(shop)
    _sub_event(client, "evt_s3", "customer.subscription.deleted", "canceled", 3000, period_end=end)
    assert not company_has_intelligence(shop)
    late = _sub_event(client, "evt_s2", "customer.subscription.updated", "active", 2000, period_end=end)
    assert "older than the last applied event" in late.json()["result"]
    assert Subscription.objects.get().status == "canceled"


@pytest.mark.django_db
def test_subscribing_goes_through_checkout_in_subscription_mode(client, shop, alice, stripe_plans):
    client.force_login(alice)
    response = client.post("/metals/intelligence/subscribe/desk")
    assert response.status_code == 302
    form = stripe_plans.calls("/v1/checkout/sessions")[-1]["form"]
    assert form["mode"] == "subscription"
    assert form["line_items[0][price]"] == Plan.objects.get().stripe_price_id
    assert form["customer"] == "cus_acme"


@pytest.mark.django_db
def test_with_a_language_model_the_brief_narrative_comes_from_an_analyst_mission(settings, spot):
    from agents.models import Mission
    from commerce.subscriptions import brief_narratives_collect

    offline = brief_compute(metal="XAU")
    assert "mission" not in offline.figures  # offline: the template writes it, and says so
    assert offline.narrative_source == "template (no language model)"

    settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test-not-used"
    brief = brief_compute(metal="XAG")
    mission = Mission.objects.get(pk=brief.figures["mission"])
    assert mission.kind == "brief"
    assert mission.agent.slug == "analyst"
    assert brief_compute(metal="XAG").figures["mission"] == mission.pk  # one mission per brief
    assert brief_narratives_collect() == 0  # not finished yet: the template stands
    Mission.objects.filter(pk=mission.pk).update(
        status="succeeded", stop_reason="completed", output={"text": "Silver held its range."}
    )
    assert brief_narratives_collect() == 1
    brief.refresh_from_db()
    assert brief.narrative == "Silver held its range."
    assert brief.narrative_source.startswith("model ")
    assert f"mission #{mission.pk}" in brief.narrative_source


@pytest.mark.django_db
def test_without_an_app_offering_briefs_the_template_stands_and_says_why(settings, spot, monkeypatch):
    from dreamnet import missions

    monkeypatch.setattr(missions, "_kinds", {})
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-test-not-used"
    brief = brief_compute(metal="XAU")
    assert "mission" not in brief.figures
    assert brief.figures["mission_error"].startswith("No app on this node runs 'brief' missions")
    assert brief.narrative_source == "template (no language model)"
