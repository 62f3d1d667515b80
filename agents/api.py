"""/api/agents, /api/missions, /api/runs/recent and /api/budget.

Agents, missions and the budget need an API key with the ``missions`` scope. ``/api/runs/recent`` is public: it
tells the site what ran, never what was asked or answered.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from agents import selectors
from agents.models import Agent, Mission
from agents.services import mission_approve, mission_cancel, mission_create
from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, UsdAmount, require_scope

agents_router = Router(tags=["missions"], auth=require_scope("missions"))
missions_router = Router(tags=["missions"], auth=require_scope("missions"))
runs_router = Router(tags=["missions"])
budget_router = Router(tags=["missions"], auth=require_scope("missions"))


class AgentOut(Schema):
    slug: str
    name: str
    role: str
    version: int
    status: str
    model: str
    fallback_model: str
    temperature: Decimal | None
    tools: list[str]
    max_tokens: int
    max_turns: int
    monthly_cap_usd: Decimal | None


@agents_router.get("", response={200: list[AgentOut], **AUTH_ERRORS}, summary="List agents")
def agent_list(request: HttpRequest):
    """Return every agent with its traits; only `active` agents run missions."""
    return list(Agent.objects.order_by("slug"))


@agents_router.get("/{slug}", response={200: AgentOut, 404: ErrorOut, **AUTH_ERRORS}, summary="One agent")
def agent_detail(request: HttpRequest, slug: str):
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise ApiError(404, "unknown_agent", f"No agent has the slug {slug!r}.")
    return agent


class MissionIn(Schema):
    kind: str = Field(description="`task` (a prompt worked with tools) or `brief` (market-intelligence narrative).")
    agent: str = Field(description="Agent slug, e.g. `orchestrator` or `analyst`.")
    prompt: str = Field("", description="What a `task` should do.")
    metals: list[str] = Field(default_factory=list, description="Metals a `brief` covers (default: all four).")
    audience: str = Field("", description="Who a `brief` is for.")
    notes: str = Field("", description="Extra guidance for a `brief`.")
    model: str | None = Field(None, description="Model override; it must have a price.")
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on this mission's spend, USD.")


class StepOut(Schema):
    number: int
    summary: str
    cost_usd: Decimal
    started_at: datetime
    finished_at: datetime
    output: dict


class MissionOut(Schema):
    id: int
    kind: str
    agent: str
    status: str
    stop_reason: str
    error: str
    provider: str
    model: str
    progress: int
    turns: int
    forecast_usd: Decimal
    budget_usd: Decimal | None
    cost_usd: Decimal
    cancel_requested: bool
    input: dict
    output: dict | None
    receipt_index: int | None
    artifact_blake3: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class MissionDetailOut(MissionOut):
    steps: list[StepOut]


def _mission_out(mission: Mission, *, steps: bool = False) -> dict:
    data = {
        "id": mission.pk,
        "kind": mission.kind,
        "agent": mission.agent.slug,
        "status": mission.status,
        "stop_reason": mission.stop_reason,
        "error": mission.error,
        "provider": mission.provider,
        "model": mission.model,
        "progress": mission.progress,
        "turns": mission.turns,
        "forecast_usd": mission.forecast_usd,
        "budget_usd": mission.budget_usd,
        "cost_usd": mission.cost_usd,
        "cancel_requested": mission.cancel_requested,
        "input": mission.input,
        "output": mission.output,
        "receipt_index": mission.receipt.log_index if mission.receipt_id else None,
        "artifact_blake3": mission.artifact.blake3 if mission.artifact_id else None,
        "created_at": mission.created_at,
        "started_at": mission.started_at,
        "finished_at": mission.finished_at,
    }
    if steps:
        data["steps"] = list(mission.steps.order_by("number"))
    return data


def _load(mission_id: int) -> Mission:
    return get_object_or_404(Mission.objects.select_related("agent", "receipt", "artifact"), pk=mission_id)


MISSION_ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


@missions_router.post("", response={201: MissionOut, **MISSION_ERRORS}, summary="Launch a mission")
def mission_launch(request: HttpRequest, body: MissionIn):
    """Create a mission. It is queued at once, or held as `awaiting_approval` when its worst-case forecast is above
    the approval threshold. 404 unknown agent; 422 bad kind, input, model (unpriced) or cap; 409 over budget."""
    data = (
        {"prompt": body.prompt}
        if body.kind == "task"
        else {"metals": body.metals, "audience": body.audience, "notes": body.notes}
    )
    mission = mission_create(
        kind=body.kind,
        agent_slug=body.agent,
        data=data,
        via=f"api:{request.api_key.name}",
        budget_usd=body.budget_usd,
        model=body.model,
    )
    return Status(201, _mission_out(_load(mission.pk)))


class MissionQuery(Schema):
    status: str | None = None
    limit: int = Field(50, ge=1, le=200)


@missions_router.get("", response={200: list[MissionOut], 422: ErrorOut, **AUTH_ERRORS}, summary="List missions")
def mission_index(request: HttpRequest, query: Query[MissionQuery]):
    if query.status and query.status not in Mission.Status.values:
        raise ApiError(422, "unknown_status", f"Status must be one of: {', '.join(Mission.Status.values)}.")
    return [_mission_out(m) for m in selectors.mission_list(status=query.status, limit=query.limit)]


@missions_router.get(
    "/{mission_id}", response={200: MissionDetailOut, 404: ErrorOut, **AUTH_ERRORS}, summary="One mission"
)
def mission_detail(request: HttpRequest, mission_id: int):
    """Return the mission with its finished steps (each step's model message and tool results)."""
    return _mission_out(_load(mission_id), steps=True)


@missions_router.post("/{mission_id}/cancel", response={200: MissionOut, **MISSION_ERRORS}, summary="Cancel a mission")
def mission_cancel_view(request: HttpRequest, mission_id: int):
    """Cancel now if not started, else between two LLM calls (`cancel_requested` is true until it stops). 409 if
    the mission already ended."""
    mission = mission_cancel(mission=_load(mission_id))
    return _mission_out(_load(mission.pk))


@missions_router.post(
    "/{mission_id}/approve", response={200: MissionOut, **MISSION_ERRORS}, summary="Approve a mission"
)
def mission_approve_view(request: HttpRequest, mission_id: int):
    """Queue a mission that waits for approval. 409 if it is not awaiting approval."""
    mission = mission_approve(mission=_load(mission_id))
    return _mission_out(_load(mission.pk))


class RunOut(Schema):
    kind: str
    agent: str
    status: str
    stop_reason: str
    turns: int
    cost_usd: Decimal
    finished_at: datetime


@runs_router.get("/recent", response=list[RunOut], summary="Recent runs (public)")
def runs_recent(request: HttpRequest):
    """Return the last 20 finished missions: kind, agent name, outcome, turns and cost. No inputs or outputs."""
    return [
        {
            "kind": m.kind,
            "agent": m.agent.name,
            "status": m.status,
            "stop_reason": m.stop_reason,
            "turns": m.turns,
            "cost_usd": m.cost_usd,
            "finished_at": m.finished_at,
        }
        for m in selectors.runs_recent(limit=20)
    ]


class SpendDayOut(Schema):
    day: date
    usd: Decimal


class SpendAgentOut(Schema):
    agent: str
    name: str
    usd: Decimal


class SpendModelOut(Schema):
    model: str
    usd: Decimal


class BudgetOut(Schema):
    month: date
    cap_usd: Decimal
    soft_limit_pct: int
    soft_limit_usd: Decimal
    spent_usd: Decimal
    reserved_usd: Decimal
    remaining_usd: Decimal
    soft_warned: bool
    calls: int
    by_day: list[SpendDayOut]
    by_agent: list[SpendAgentOut]
    by_model: list[SpendModelOut]


@budget_router.get("", response={200: BudgetOut, **AUTH_ERRORS}, summary="This month's LLM budget")
def budget(request: HttpRequest):
    """Return the month's cap, soft limit, spend, reservations in flight and spend per day, agent and model."""
    return selectors.budget_summary()
