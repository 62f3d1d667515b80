"""Agent-mission reads: forecasts, mission lists, the public run summary and the budget breakdown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from agents import engine
from agents.budget import budget_for_month, month_of, price_for
from agents.kinds import Forecast, forecast_of
from agents.llm.pricing import worst_case_cost
from agents.models import Agent, BudgetEntry, Mission
from agents.tools import MAX_RESULT_CHARS, TOOLS

ZERO = Decimal(0)
BRIEF_TOOLS = ("spot_prices", "catalog_search")


def tools_for(*, agent: Agent, kind: str) -> list[dict[str, Any]]:
    """Return the tool schemas a mission of ``kind`` by ``agent`` offers the model (briefs always get spot prices
    and catalog search)."""
    names = [name for name in agent.tools if name in TOOLS]
    if kind == Mission.Kind.BRIEF:
        names += [name for name in BRIEF_TOOLS if name not in names]
    return [TOOLS[name].schema() for name in names]


def provider_for(*, agent: Agent, requested: str | None = None) -> str:
    """Return the provider a new mission of ``agent`` uses: ``loom`` when its model (or the requested one) is a Loom
    model trained on this node (``loom:<blake3>``), else the configured one."""
    from agents.llm import provider_name_configured

    return "loom" if (requested or agent.model).startswith("loom:") else provider_name_configured()


def model_for(*, agent: Agent, provider: str, requested: str | None = None) -> str:
    """Return the model a new mission uses: the offline provider's own, else the request's, the agent's or the
    default (DREAMNET_LLM_MODEL)."""
    if provider == "offline":
        return "offline"
    if provider == "loom":
        return requested if requested and requested.startswith("loom:") else agent.model
    return requested or agent.model or settings.LLM_MODEL


def mission_forecast(*, agent: Agent, kind: str, data: dict[str, Any], model: str) -> Forecast:
    """Return the worst-case cost of a mission that uses every turn, and of its first call.

    Each later turn's prompt is bounded by the first prompt plus, per earlier turn, the model's maximum output
    (at most four bytes a token) and one maximal tool result. Runner kinds forecast themselves
    (:mod:`agents.kinds`). Raises UnpricedModel.
    """
    if kind not in (Mission.Kind.TASK, Mission.Kind.BRIEF):
        from agents.kinds import runner_for

        return runner_for(kind).forecast(agent=agent, data=data, model=model)
    price = price_for(model)
    request = engine.request_for(
        model=model,
        system=agent.system_prompt,
        user=engine.user_prompt(kind, data),
        turns=[],
        tools=tools_for(agent=agent, kind=kind),
        max_tokens=agent.max_tokens,
        temperature=None,
    )
    first_prompt = request.prompt_token_bound()
    growth = 4 * agent.max_tokens + MAX_RESULT_CHARS
    calls = [
        worst_case_cost(prompt_tokens=first_prompt + turn * growth, max_tokens=agent.max_tokens, price=price)
        for turn in range(agent.max_turns)
    ]
    return forecast_of(model=model, calls=calls)


def agents_active() -> QuerySet[Agent]:
    return Agent.objects.filter(status=Agent.Status.ACTIVE).order_by("name")


def mission_list(*, status: str | None = None, limit: int = 50) -> list[Mission]:
    """Return the newest missions first, with the agent, receipt and artifact the API shows for each."""
    missions = Mission.objects.select_related("agent", "receipt", "artifact").order_by("-created_at")
    if status:
        missions = missions.filter(status=status)
    return list(missions[:limit])


def runs_recent(*, limit: int = 20) -> list[Mission]:
    """Return the latest finished missions (for the public summary: callers expose no inputs or outputs)."""
    return list(
        Mission.objects.filter(finished_at__isnull=False).select_related("agent").order_by("-finished_at")[:limit]
    )


def _cost_expression():
    return Coalesce(Sum(Coalesce("actual_usd", "reserved_usd")), ZERO)


def budget_summary(*, month: date | None = None) -> dict[str, Any]:
    """Return the month's cap, totals and spend per day, agent and model (settled cost, or the reservation of
    calls still in flight)."""
    budget = budget_for_month(month or month_of())
    entries = BudgetEntry.objects.filter(budget=budget)
    by_day = (
        entries.annotate(day=TruncDate("created_at")).values("day").annotate(usd=_cost_expression()).order_by("day")
    )
    by_agent = entries.values("agent__slug", "agent__name").annotate(usd=_cost_expression()).order_by("-usd")
    by_model = entries.values("model").annotate(usd=_cost_expression()).order_by("-usd")
    return {
        "budget": budget,
        "month": budget.month,
        "cap_usd": budget.cap_usd,
        "soft_limit_pct": budget.soft_limit_pct,
        "soft_limit_usd": budget.soft_limit_usd,
        "spent_usd": budget.spent_usd,
        "reserved_usd": budget.reserved_usd,
        "remaining_usd": budget.remaining_usd,
        "soft_warned": budget.soft_warned_at is not None,
        "calls": entries.count(),
        "by_day": [{"day": row["day"], "usd": row["usd"]} for row in by_day],
        "by_agent": [
            {"agent": row["agent__slug"] or "", "name": row["agent__name"] or "", "usd": row["usd"]} for row in by_agent
        ],
        "by_model": [{"model": row["model"], "usd": row["usd"]} for row in by_model],
    }
