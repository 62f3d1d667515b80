"""The operator's mission console: missions and launch (with the forecast), the live mission page, approvals,
agents, and the budget."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agents import selectors
from agents.budget import budget_cap_set
from agents.errors import AgentsError
from agents.forms import BudgetForm, LaunchForm
from agents.llm import provider_name_configured
from agents.models import Agent, Mission
from agents.services import mission_approve, mission_cancel, mission_create
from dreamnet.http import AuthenticatedHtmxRequest, operator_required


def _get_mission(mission_id: int) -> Mission:
    return get_object_or_404(Mission.objects.select_related("agent", "receipt", "artifact"), pk=mission_id)


def _forecast(form: LaunchForm) -> dict:
    """Return the forecast for a valid launch form, or the reason there is none."""
    if not form.is_valid():
        return {}
    data = form.cleaned_data
    try:
        provider = selectors.provider_for(agent=data["agent"])
        model = selectors.model_for(agent=data["agent"], provider=provider)
        return {
            "forecast": selectors.mission_forecast(
                agent=data["agent"], kind=data["kind"], data=form.mission_data(), model=model
            )
        }
    except AgentsError as exc:
        return {"forecast_error": str(exc)}


@operator_required
def missions_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List missions and launch one; the form shows the worst-case forecast as it is filled in (HTMX)."""
    form = LaunchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mission = mission_create(
                kind=form.cleaned_data["kind"],
                agent_slug=form.cleaned_data["agent"].slug,
                data=form.mission_data(),
                by=request.user,
                via="console",
                budget_usd=form.cleaned_data["budget_usd"],
            )
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(mission)
    status = request.GET.get("status") or None
    context = {
        "form": form,
        "missions": selectors.mission_list(status=status if status in Mission.Status.values else None, limit=100),
        "statuses": Mission.Status.choices,
        "status": status,
        "provider": provider_name_configured(),
    }
    return render(request, "agents/missions.html", context)


@operator_required
def mission_forecast(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Render the launch form's forecast for the values typed so far."""
    form = LaunchForm(request.GET)
    return render(request, "agents/missions.html#forecast", _forecast(form))


@operator_required
def mission_page(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    """Show one mission; the panel re-renders (HTMX) whenever an event about the mission arrives live."""
    mission = _get_mission(mission_id)
    context = {"mission": mission, "steps": mission.steps.order_by("number")}
    template = "agents/mission.html#mission-panel" if request.htmx else "agents/mission.html"
    return render(request, template, context)


@require_POST
@operator_required
def mission_cancel_view(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    mission = _get_mission(mission_id)
    try:
        mission = mission_cancel(mission=mission, by=request.user)
    except AgentsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Mission {mission.pk}: " + ("cancelling." if mission.status == "running" else "cancelled.")
        )
    return redirect(request.POST.get("next") or mission.get_absolute_url())


@require_POST
@operator_required
def mission_approve_view(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    mission = _get_mission(mission_id)
    try:
        mission_approve(mission=mission, by=request.user)
    except AgentsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Mission {mission.pk} approved and queued.")
    return redirect(request.POST.get("next") or mission.get_absolute_url())


@operator_required
def approvals(request: AuthenticatedHtmxRequest) -> HttpResponse:
    waiting = Mission.objects.filter(status=Mission.Status.AWAITING_APPROVAL).select_related("agent", "created_by")
    return render(request, "agents/approvals.html", {"missions": waiting.order_by("created_at")})


@operator_required
def agents_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    return render(request, "agents/agents.html", {"agents": Agent.objects.order_by("status", "name")})


@operator_required
def budget_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Show the month's spend against the cap (per day, agent and model) and let the operator change the cap."""
    summary = selectors.budget_summary()
    form = BudgetForm(
        request.POST or None, initial={"cap_usd": summary["cap_usd"], "soft_limit_pct": summary["soft_limit_pct"]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            budget_cap_set(cap_usd=form.cleaned_data["cap_usd"], soft_limit_pct=form.cleaned_data["soft_limit_pct"])
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Budget updated.")
            return redirect("agents:budget")
    peak = max([row["usd"] for row in summary["by_day"]] + [summary["cap_usd"] / 30, 0]) or 1
    bars = []
    for i, row in enumerate(summary["by_day"]):
        height = int(row["usd"] * 100 / peak)
        bars.append({"day": row["day"], "usd": row["usd"], "height": height, "x": i * 22, "y": 100 - height})
    context = {"summary": summary, "form": form, "bars": bars, "chart_width": max(22 * len(bars), 22)}
    return render(request, "agents/budget.html", context)
