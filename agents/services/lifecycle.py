"""Mission lifecycle writes: create (queued or held for approval), approve, cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agents import engine
from agents.budget import budget_for_month
from agents.errors import AgentsError, BudgetRefused
from agents.kinds import runner_for
from agents.llm import canonical
from agents.models import Agent, Mission
from agents.selectors import mission_forecast, model_for, provider_for
from agents.services.common import enqueue_after_commit, mission_payload
from agents.services.run import mission_finish
from mesh import publish_on_commit

MAX_AUDIENCE_CHARS = 200
MAX_MISSION_CAP = Decimal(10) ** 8  # the cap column holds 8 integer digits


def _clean_input(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind not in (Mission.Kind.TASK, Mission.Kind.BRIEF):
        cleaned = runner_for(kind).clean(data)
    elif kind == Mission.Kind.TASK:
        prompt = str(data.get("prompt") or "").strip()
        if not prompt:
            raise AgentsError("A task mission needs a prompt: what should the agent do?", code="prompt_required")
        cleaned: dict[str, Any] = {"prompt": prompt}
    else:
        metals = [str(m).strip().lower() for m in data.get("metals") or []] or list(engine.METALS)
        unknown = [m for m in metals if m not in engine.METALS]
        if unknown:
            raise AgentsError(
                f"Unknown metal(s) {', '.join(unknown)}; briefs cover {', '.join(engine.METALS)}.", code="unknown_metal"
            )
        audience = str(data.get("audience") or "").strip()
        if len(audience) > MAX_AUDIENCE_CHARS:
            raise AgentsError(f"The audience is at most {MAX_AUDIENCE_CHARS} characters.", code="input_too_large")
        cleaned = {"metals": sorted(set(metals), key=engine.METALS.index), "audience": audience}
        if notes := str(data.get("notes") or "").strip():
            cleaned["notes"] = notes
    size = len(canonical(cleaned))
    if size > settings.MISSION_MAX_INPUT_CHARS:
        raise AgentsError(
            f"The mission input is {size} characters; the limit is {settings.MISSION_MAX_INPUT_CHARS} "
            "(DREAMNET_MISSION_MAX_INPUT_CHARS).",
            code="input_too_large",
        )
    return cleaned


def mission_create(
    *,
    kind: str,
    agent_slug: str,
    data: dict[str, Any],
    by: User | None = None,
    via: str = "",
    budget_usd: Decimal | None = None,
    model: str | None = None,
    parent: Mission | None = None,
    allow_draft: bool = False,
) -> Mission:
    """Create a mission, queue it (after commit) or hold it for approval when its forecast is above
    DREAMNET_MISSION_APPROVAL_USD. Publishes ``mission.created``.

    Refuses (AgentsError) an unknown or inactive agent, an unknown kind, bad or oversized input, an unpriced
    model, and a mission whose first call cannot fit the month's remaining budget or its own cap.
    ``allow_draft`` lets a draft agent run (the foundry evaluates draft hybrids); retired agents never run.
    """
    if kind not in Mission.Kind.values:
        raise AgentsError(
            f"Unknown mission kind {kind!r}; use one of: {', '.join(Mission.Kind.values)}.", code="unknown_kind"
        )
    agent = Agent.objects.filter(slug=agent_slug).first()
    if agent is None:
        raise AgentsError(
            f"No agent has the slug {agent_slug!r}; GET /api/agents lists them.", code="unknown_agent", status=404
        )
    if agent.status != Agent.Status.ACTIVE and not (allow_draft and agent.status == Agent.Status.DRAFT):
        raise AgentsError(
            f"Agent {agent.slug!r} is {agent.status}; only active agents run missions.", code="agent_not_active"
        )
    if budget_usd is not None and (not budget_usd.is_finite() or budget_usd <= 0 or budget_usd >= MAX_MISSION_CAP):
        raise AgentsError(
            f"A mission cap is a positive amount in US dollars below {MAX_MISSION_CAP:,}.", code="bad_budget"
        )
    cleaned = _clean_input(kind, data)
    runner = runner_for(kind) if kind not in (Mission.Kind.TASK, Mission.Kind.BRIEF) else None
    requested = model.strip() if model else None
    if runner is not None and hasattr(runner, "model"):  # media kinds pick their own backend and model
        provider = runner.provider()
        chosen = runner.model(provider=provider, requested=requested)
    else:
        provider = provider_for(agent=agent, requested=requested)
        chosen = model_for(agent=agent, provider=provider, requested=requested)
    forecast = mission_forecast(agent=agent, kind=kind, data=cleaned, model=chosen)  # raises UnpricedModel
    budget = budget_for_month()
    if forecast.first_call_usd > budget.remaining_usd:
        raise BudgetRefused(
            f"This month's budget has ${budget.remaining_usd} left of ${budget.cap_usd}; the mission's first call "
            f"can cost up to ${forecast.first_call_usd}. Raise the cap on the budget page or wait for next month."
        )
    if budget_usd is not None and forecast.first_call_usd > budget_usd:
        raise AgentsError(
            f"The mission cap ${budget_usd} is below its first call's worst case ${forecast.first_call_usd}.",
            code="mission_budget_too_small",
        )
    with transaction.atomic():
        mission = Mission.objects.create(
            kind=kind,
            agent=agent,
            parent=parent,
            input=cleaned,
            provider=provider,
            model=chosen,
            forecast_usd=forecast.worst_case_usd,
            budget_usd=budget_usd,
            status=Mission.Status.AWAITING_APPROVAL if forecast.needs_approval else Mission.Status.QUEUED,
            created_by=by if getattr(by, "is_authenticated", False) else None,
            created_via=via[:120],
            queued_at=None if forecast.needs_approval else timezone.now(),
        )
        publish_on_commit("mission.created", mission_payload(mission, forecast_usd=str(forecast.worst_case_usd)))
        if forecast.needs_approval:
            publish_on_commit(
                "mission.awaiting_approval", mission_payload(mission, forecast_usd=str(forecast.worst_case_usd))
            )
        else:
            enqueue_after_commit(mission)
    return mission


def mission_approve(*, mission: Mission, by: User | None = None) -> Mission:
    """Approve a mission awaiting approval and queue it (after commit). Locks the mission row; publishes
    ``mission.approved``."""
    with transaction.atomic():
        mission = Mission.objects.select_for_update(of=("self",)).select_related("agent").get(pk=mission.pk)
        if mission.status != Mission.Status.AWAITING_APPROVAL:
            raise AgentsError(
                f"Mission {mission.pk} is {mission.status}; only missions awaiting approval can be approved.",
                code="not_awaiting_approval",
                status=409,
            )
        mission.status = Mission.Status.QUEUED
        mission.approved_by = by if getattr(by, "is_authenticated", False) else None
        mission.approved_at = mission.queued_at = timezone.now()
        mission.save(update_fields=["status", "approved_by", "approved_at", "queued_at", "updated_at"])
        publish_on_commit("mission.approved", mission_payload(mission))
        enqueue_after_commit(mission)
    return mission


def mission_cancel(*, mission: Mission, by: User | None = None) -> Mission:
    """Cancel a mission: at once when it has not started, between two LLM calls when it is running.

    Locks the mission row; publishes ``mission.cancel_requested`` or (through :func:`mission_finish`)
    ``mission.finished``.
    """
    with transaction.atomic():
        mission = Mission.objects.select_for_update(of=("self",)).select_related("agent").get(pk=mission.pk)
        if mission.is_terminal:
            raise AgentsError(
                f"Mission {mission.pk} already ended ({mission.status}); there is nothing to cancel.",
                code="not_cancellable",
                status=409,
            )
        if mission.status == Mission.Status.RUNNING:
            if not mission.cancel_requested:
                mission.cancel_requested = True
                mission.save(update_fields=["cancel_requested", "updated_at"])
                publish_on_commit("mission.cancel_requested", mission_payload(mission))
            return mission
    return mission_finish(
        mission=mission,
        status=Mission.Status.CANCELLED,
        reason=Mission.StopReason.CANCELLED,
        error="Cancelled before it started.",
    )
