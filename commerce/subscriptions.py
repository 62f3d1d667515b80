"""Market-intelligence plans and subscriptions (Stripe Checkout in subscription mode), and the daily briefs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import mesh
from commerce.intelligence import Point, brief_figures, narrative_from_template
from commerce.models import Company, IntelligenceBrief, Metal, Plan, SpotTick, StripeCustomer, Subscription
from commerce.payments import _client, _stripe_call, stripe_customer_for, stripe_unavailable_reason, to_cents
from commerce.services import CommerceError


def company_has_intelligence(company: Company | None) -> bool:
    if company is None:
        return False
    now = timezone.now()
    return any(
        s.current_period_end is None or s.current_period_end > now
        for s in company.subscriptions.filter(status__in=Subscription.ACCESS_STATUSES)
    )


def subscription_checkout(*, company: Company, plan: Plan) -> str:
    """Open a Checkout Session in subscription mode for ``plan``; return the URL to send the buyer to."""
    if reason := stripe_unavailable_reason():
        raise CommerceError(
            reason.replace("pay by wire", "ask us for an invoiced plan"), code="stripe_unavailable", status=409
        )
    if not plan.active or not plan.stripe_price_id:
        raise CommerceError(
            f"The {plan.name} plan is not on sale yet (run stripe_sync_plans).", code="plan_unavailable", status=409
        )
    params = {
        "mode": "subscription",
        "customer": stripe_customer_for(company),
        "client_reference_id": f"plan:{company.slug}:{plan.slug}",
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "metadata": {"company": company.slug, "plan": plan.slug},
        "subscription_data": {"metadata": {"company": company.slug, "plan": plan.slug}},
        "success_url": settings.SITE_URL + reverse("commerce:intelligence") + "?subscribed=1",
        "cancel_url": settings.SITE_URL + reverse("commerce:intelligence"),
    }
    session = _stripe_call(
        "open the subscription checkout",
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": f"subscribe-{company.slug}-{plan.slug}-{uuid.uuid4().hex}"},
    )
    return session.url


def portal_url(*, company: Company) -> str:
    """Return a Stripe customer-portal URL where the company manages its subscription."""
    customer = StripeCustomer.objects.filter(company=company).first()
    if customer is None:
        raise CommerceError("No Stripe subscription to manage yet.", code="no_customer", status=409)
    portal = _stripe_call(
        "open the billing portal",
        _client().v1.billing_portal.sessions.create,
        params={"customer": customer.customer_id, "return_url": settings.SITE_URL + reverse("commerce:intelligence")},
    )
    return portal.url


def plan_grant(*, company: Company, plan: Plan, by, until: datetime | None = None) -> Subscription:
    """Grant a plan by hand (invoiced customers); access lasts until ``until`` or until revoked."""
    sub = Subscription.objects.create(
        company=company, plan=plan, status="active", current_period_end=until, granted_by=by
    )
    mesh.publish("subscription.granted", {"company": company.slug, "plan": plan.slug})
    return sub


def plans_sync() -> list[str]:
    """Create or update each active plan's Stripe product and monthly price; return what changed."""
    if reason := stripe_unavailable_reason():
        raise CommerceError(reason, code="stripe_unavailable", status=409)
    changes = []
    for plan in Plan.objects.filter(active=True):
        client = _client()
        if not plan.stripe_product_id:
            product = _stripe_call(
                "create the product",
                client.v1.products.create,
                params={"name": f"DreamNet {plan.name}", "metadata": {"plan": plan.slug}},
                options={"idempotency_key": f"plan-product-{plan.slug}-{plan.pk}"},
            )
            plan.stripe_product_id = product.id
            changes.append(f"{plan.slug}: product {product.id}")
        if plan.stripe_price_id and plan.stripe_price_amount == plan.monthly_price:
            plan.save(update_fields=["stripe_product_id"])
            continue
        price = _stripe_call(
            "create the price",
            client.v1.prices.create,
            params={
                "product": plan.stripe_product_id,
                "currency": "usd",
                "unit_amount": to_cents(plan.monthly_price),
                "recurring": {"interval": "month"},
                "metadata": {"plan": plan.slug},
            },
            options={"idempotency_key": f"plan-price-{plan.slug}-{to_cents(plan.monthly_price)}"},
        )
        plan.stripe_price_id, plan.stripe_price_amount = price.id, plan.monthly_price
        plan.save(update_fields=["stripe_product_id", "stripe_price_id", "stripe_price_amount"])
        changes.append(f"{plan.slug}: price {price.id} at ${plan.monthly_price}/month")
    return changes


def _period_end(obj: dict) -> datetime | None:
    end = obj.get("current_period_end")
    if end is None:  # newer API versions keep the period on the subscription items
        items = (obj.get("items") or {}).get("data") or []
        end = items[0].get("current_period_end") if items else None
    return datetime.fromtimestamp(end, tz=UTC) if end else None


def subscription_event_apply(event_type: str, obj: dict, created: int) -> tuple[str, bool]:
    """Apply customer.subscription.* and invoice.* events; older events than the last applied are ignored."""
    if event_type.startswith("invoice."):
        sub_id = obj.get("subscription") or (((obj.get("parent") or {}).get("subscription_details")) or {}).get(
            "subscription"
        )
        sub = Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first() if sub_id else None
        if sub is None:
            return f"no subscription {sub_id} for this invoice", True
        if created < sub.last_event_created:
            return f"{sub_id}: older than the last applied event; ignored", False
        sub.last_event_created = created
        if event_type == "invoice.paid":
            lines = (obj.get("lines") or {}).get("data") or []
            end = (lines[0].get("period") or {}).get("end") if lines else None
            if end:
                sub.current_period_end = datetime.fromtimestamp(end, tz=UTC)
            sub.status = "active"
        elif event_type == "invoice.payment_failed":
            sub.status = "past_due"
        sub.save()
        mesh.publish(f"subscription.{sub.status}", {"company": sub.company.slug, "plan": sub.plan.slug})
        return f"{sub_id}: {event_type} → {sub.status}", False
    customer = StripeCustomer.objects.filter(customer_id=obj.get("customer")).select_related("company").first()
    items = (obj.get("items") or {}).get("data") or []
    price_id = (items[0].get("price") or {}).get("id") if items else None
    plan = Plan.objects.filter(stripe_price_id=price_id).first() if price_id else None
    if customer is None or plan is None:
        return f"subscription {obj.get('id')}: unknown customer or price", True
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().filter(stripe_subscription_id=obj["id"]).first()
        if sub is not None and created < sub.last_event_created:
            return f"{obj['id']}: older than the last applied event; ignored", False
        status = "canceled" if event_type.endswith("deleted") else obj.get("status", "incomplete")
        sub = sub or Subscription(company=customer.company, stripe_subscription_id=obj["id"])
        sub.plan, sub.status, sub.current_period_end, sub.last_event_created = plan, status, _period_end(obj), created
        sub.save()
    mesh.publish(f"subscription.{status}", {"company": customer.company.slug, "plan": plan.slug})
    return f"{obj['id']}: {customer.company.slug} on {plan.slug} is {status}", False


def brief_compute(*, metal: str, now: datetime | None = None) -> IntelligenceBrief | None:
    """Write today's brief for ``metal`` from the stored ticks (30 days back); None without enough data.

    The narrative starts as the deterministic template over the figures. When a language model is configured
    (agents: DREAMNET_LLM_PROVIDER / OPENAI_API_KEY), a ``brief`` mission of the Market Analyst is launched for
    the day (under the budget governor) and its text replaces the template once it succeeds
    (``brief_narratives_collect``, run by the hourly briefs task). Each brief says which wrote it.
    """
    now = now or timezone.now()
    ticks = SpotTick.objects.filter(metal=metal, fetched_at__gte=now - timedelta(days=31), fetched_at__lte=now)
    series = [Point(t.fetched_at, float((t.bid + t.ask) / 2)) for t in ticks.order_by("fetched_at").iterator()]
    if not series:
        return None
    figures = brief_figures(series, now=now, horizon_minutes=settings.LOCK_MINUTES["wire"])
    figures["sources"] = sorted(set(ticks.values_list("source", flat=True)))
    existing = IntelligenceBrief.objects.filter(metal=metal, day=now.date()).first()
    if existing is not None and existing.narrative_source.startswith("model"):
        existing.figures = figures  # keep the model's narrative; refresh the numbers
        existing.save(update_fields=["figures"])
        return existing
    if existing is not None and existing.figures.get("mission"):
        figures["mission"] = existing.figures["mission"]  # the day's mission is still writing
    brief, _ = IntelligenceBrief.objects.update_or_create(
        metal=metal, day=now.date(),
        defaults={"figures": figures, "narrative": narrative_from_template(Metal(metal).label, figures),
                  "narrative_source": "template (no language model)"},
    )  # fmt: skip
    _brief_mission_ensure(brief)
    return brief


def _brief_mission_ensure(brief: IntelligenceBrief) -> None:
    """Launch the day's brief mission for a configured language model (once per brief)."""
    from agents.errors import AgentsError
    from agents.llm import provider_name_configured
    from agents.services import mission_create

    if provider_name_configured() == "offline" or brief.figures.get("mission"):
        return
    try:
        mission = mission_create(
            kind="brief", agent_slug="analyst", via="intelligence",
            data={"metals": [Metal(brief.metal).label.lower()], "audience": "subscribers to the daily brief",
                  "notes": "Figures computed by the node: " + json.dumps({k: v for k, v in brief.figures.items() if k != "sources"})},
        )  # fmt: skip
    except AgentsError as exc:  # over budget, no analyst: the template narrative stands, and says so
        brief.figures["mission_error"] = str(exc)[:200]
    else:
        brief.figures["mission"] = mission.pk
    brief.save(update_fields=["figures"])


def brief_narratives_collect() -> int:
    """Copy the text of finished brief missions into their briefs; return how many were updated."""
    from agents.models import Mission

    updated = 0
    for brief in IntelligenceBrief.objects.filter(narrative_source__startswith="template"):
        mission_id = brief.figures.get("mission")
        if not mission_id:
            continue
        mission = Mission.objects.filter(pk=mission_id, status=Mission.Status.SUCCEEDED).first()
        text = ((mission.output or {}).get("text") or "").strip() if mission else ""
        if text:
            brief.narrative = text
            brief.narrative_source = f"model {mission.model or 'configured model'} (mission #{mission.pk})"
            brief.save(update_fields=["narrative", "narrative_source"])
            updated += 1
    return updated


def briefs_compute_all() -> list[IntelligenceBrief]:
    briefs = [b for metal in Metal.values if (b := brief_compute(metal=metal)) is not None]
    brief_narratives_collect()
    return briefs
