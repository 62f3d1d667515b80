"""Market-intelligence plans and subscriptions (Stripe Checkout in subscription mode), and the daily briefs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import mesh
from commerce.errors import CommerceError
from commerce.intelligence import Point, brief_figures, narrative_from_template
from commerce.models import Company, IntelligenceBrief, Metal, Plan, SpotTick, Subscription
from commerce.payments import (
    EventKind,
    EventNotReady,
    PaymentEvent,
    PaymentProvider,
    methods_for_country,
    payment_event_handler,
    provider_for_method,
    provider_get,
)
from dreamnet.missions import MissionError, mission_kind_ready, mission_request, mission_status

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# What an operator may set on a hand-granted plan (``canceled`` revokes it).
GRANT_STATUSES = ("active", "past_due", "canceled")


def company_has_intelligence(company: Company | None) -> bool:
    if company is None:
        return False
    now = timezone.now()
    return any(
        s.current_period_end is None or s.current_period_end > now
        for s in company.subscriptions.filter(status__in=Subscription.ACCESS_STATUSES)
    )


def plan_provider_for(company: Company | None) -> PaymentProvider:
    """The provider a company subscribes through: that of the first online method its country is offered
    (Stripe in the US, Lemon Squeezy in the EU by default); Stripe for visitors."""
    for method in methods_for_country(company.country) if company else []:
        if provider := provider_for_method(method):
            return provider
    return provider_get()


def subscription_checkout(*, company: Company, plan: Plan) -> str:
    """Open a checkout at the company's provider that subscribes it to ``plan``; return the URL to send the
    buyer to."""
    provider = plan_provider_for(company)
    if reason := provider.unavailable_reason():
        raise CommerceError(
            reason.replace("pay by wire", "ask us for an invoiced plan"),
            code=f"{provider.name}_unavailable",
            status=409,
        )
    if not plan.active:
        raise CommerceError(
            f"The {plan.name} plan is not on sale yet (run stripe_sync_plans).", code="plan_unavailable", status=409
        )
    return provider.plan_checkout(company=company, plan=plan).url


def portal_url(*, company: Company) -> str:
    """Return the provider's customer-portal URL where the company manages its subscription."""
    return plan_provider_for(company).billing_portal_url(
        company=company, return_url=settings.SITE_URL + reverse("commerce:intelligence")
    )


def plan_grant(*, company: Company, plan: Plan, by: User, until: datetime | None = None) -> Subscription:
    """Grant a plan by hand (invoiced customers); access lasts until ``until`` or until revoked.

    Publishes ``subscription.granted`` with the operator as actor.
    """
    with transaction.atomic():
        sub = Subscription.objects.create(
            company=company, plan=plan, status="active", current_period_end=until, granted_by=by
        )
        mesh.publish("subscription.granted", {"company": company.slug, "plan": plan.slug}, actor=by)
    return sub


def subscription_grant_update(
    *, subscription: Subscription, status: str, until: datetime | None, by: User
) -> Subscription:
    """Change a hand-granted plan's status or end (revoke: ``canceled``); Stripe-managed ones are refused.

    Locks the subscription row. Publishes ``subscription.<status>`` with the operator as actor.
    """
    if status not in GRANT_STATUSES:
        raise CommerceError(
            f"A granted plan's status is one of {', '.join(GRANT_STATUSES)}; got {status!r}.", code="bad_status"
        )
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("company", "plan").get(pk=subscription.pk)
        if sub.stripe_subscription_id:
            provider = "Lemon Squeezy" if sub.stripe_subscription_id.startswith("lemonsqueezy:") else "Stripe"
            raise CommerceError(
                f"This subscription is managed by {provider}; change it there (its webhooks update it here).",
                code="stripe_managed",
                status=409,
            )
        sub.status, sub.current_period_end = status, until
        sub.save(update_fields=["status", "current_period_end"])
        mesh.publish(f"subscription.{status}", {"company": sub.company.slug, "plan": sub.plan.slug}, actor=by)
    return sub


def plans_sync(*, provider_name: str = "stripe") -> list[str]:
    """Create or update each active plan's product and monthly price at the provider (Stripe), or find its
    variant (Lemon Squeezy); return what changed."""
    provider = provider_get(provider_name)
    if reason := provider.unavailable_reason():
        raise CommerceError(reason, code=f"{provider.name}_unavailable", status=409)
    return [change for plan in Plan.objects.filter(active=True) for change in provider.plan_sync(plan=plan)]


@payment_event_handler(EventKind.SUBSCRIPTION_RENEWED, EventKind.SUBSCRIPTION_PAYMENT_FAILED)
def subscription_invoice_apply(event: PaymentEvent) -> tuple[str, bool]:
    """Apply a period's invoice paid or failed; events older than the last applied one are ignored.

    Locks the subscription row; publishes ``subscription.<status>``.
    """
    sub_id = event.subscription or None
    sub = Subscription.objects.select_for_update().filter(stripe_subscription_id=sub_id).first() if sub_id else None
    if sub is None and sub_id:
        # Providers may deliver a period's invoice before the subscription it belongs to: wait for it.
        raise EventNotReady(f"no subscription {sub_id} yet for this invoice")
    if sub is None:
        return "an invoice without a subscription", True
    if event.created < sub.last_event_created:
        return f"{sub_id}: older than the last applied event; ignored", False
    sub.last_event_created = event.created
    if event.kind == EventKind.SUBSCRIPTION_RENEWED and event.period_end:
        sub.current_period_end = event.period_end
    sub.status = event.status
    sub.save()
    mesh.publish(f"subscription.{sub.status}", {"company": sub.company.slug, "plan": sub.plan.slug})
    kind = "invoice.paid" if event.kind == EventKind.SUBSCRIPTION_RENEWED else "invoice.payment_failed"
    return f"{sub_id}: {kind} → {sub.status}", False


@payment_event_handler(EventKind.SUBSCRIPTION_STARTED, EventKind.SUBSCRIPTION_UPDATED, EventKind.SUBSCRIPTION_CANCELLED)
def subscription_event_apply(event: PaymentEvent) -> tuple[str, bool]:
    """Create or update the local subscription from the provider's; older events than the last applied are
    ignored. Locks the subscription row; publishes ``subscription.<status>``."""
    provider = provider_get(event.provider)
    company = provider.company_for_customer(event.customer)
    plan = provider.plan_for_price(event.price)
    if company is None or plan is None:
        return f"subscription {event.subscription}: unknown customer or price", True
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().filter(stripe_subscription_id=event.subscription).first()
        if sub is not None and event.created < sub.last_event_created:
            return f"{event.subscription}: older than the last applied event; ignored", False
        sub = sub or Subscription(company=company, stripe_subscription_id=event.subscription)
        sub.plan, sub.status, sub.current_period_end = plan, event.status, event.period_end
        sub.last_event_created = event.created
        sub.save()
    mesh.publish(f"subscription.{event.status}", {"company": company.slug, "plan": plan.slug})
    return f"{event.subscription}: {company.slug} on {plan.slug} is {event.status}", False


def brief_compute(*, metal: str, now: datetime | None = None) -> IntelligenceBrief | None:
    """Write today's brief for ``metal`` from the stored ticks (30 days back); None without enough data.

    The narrative starts as the deterministic template over the figures. When the ``brief`` mission kind can run
    (agents registers it; it runs when a language model is configured), a ``brief`` mission is requested for
    the day (the Market Analyst, under the budget governor) and its text replaces the template once it succeeds
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
    """Ask for the day's ``brief`` mission when it can run here (a language model is configured), once per brief.

    Asks through the platform mission registry, by kind name; a refusal (over budget, no analyst, no app offering
    briefs) is kept in ``figures["mission_error"]`` and the template narrative stands, saying so.
    """
    if brief.figures.get("mission"):
        return
    try:
        if not mission_kind_ready("brief"):
            return
        ticket = mission_request(
            kind="brief", via="intelligence", metals=[Metal(brief.metal).label.lower()],
            audience="subscribers to the daily brief",
            notes="Figures computed by the node: " + json.dumps({k: v for k, v in brief.figures.items() if k != "sources"}),
        )  # fmt: skip
    except MissionError as exc:
        brief.figures["mission_error"] = str(exc.detail)[:200]
    else:
        brief.figures["mission"] = ticket.id
    brief.save(update_fields=["figures"])


def brief_narratives_collect() -> int:
    """Copy the text of finished brief missions into their briefs; return how many were updated."""
    updated = 0
    for brief in IntelligenceBrief.objects.filter(narrative_source__startswith="template"):
        mission_id = brief.figures.get("mission")
        if not mission_id:
            continue
        status = mission_status(mission_id, kind="brief")
        text = status.text.strip() if status is not None and status.succeeded else ""
        if text:
            brief.narrative = text
            brief.narrative_source = f"model {status.model or 'configured model'} (mission #{status.id})"
            brief.save(update_fields=["narrative", "narrative_source"])
            updated += 1
    return updated


def briefs_compute_all() -> list[IntelligenceBrief]:
    briefs = [b for metal in Metal.values if (b := brief_compute(metal=metal)) is not None]
    brief_narratives_collect()
    return briefs
