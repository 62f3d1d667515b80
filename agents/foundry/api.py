"""/api/foundry: telemetry ingest, the traits catalogue, breeding, hybrids, evaluations and promotion.

Every operation needs an API key with the ``foundry`` scope.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from agents.foundry import selectors, services
from agents.foundry.models import Evaluation, Hybrid
from dreamnet.ninja import AUTH_ERRORS, ApiError, DecimalIn, ErrorOut, UsdAmount, require_scope

router = Router(tags=["foundry"], auth=require_scope("foundry"))


def _via(request: HttpRequest) -> str:
    key = getattr(request, "api_key", None)
    return f"api:{key.name}" if key is not None else "api"


class TelemetryIn(Schema):
    agent: str
    source: str = Field(description="Name of the external system; stored as external:<source>.")
    success_rate: DecimalIn | None = None
    mean_cost_usd: UsdAmount | None = None
    mean_latency_ms: int | None = None
    eval_score: DecimalIn | None = None
    sample_size: int = 0


class TelemetryOut(Schema):
    source: str
    success_rate: Decimal | None
    mean_cost_usd: Decimal | None
    mean_latency_ms: int | None
    eval_score: Decimal | None
    sample_size: int
    recorded_at: datetime


class TraitsOut(Schema):
    slug: str
    name: str
    status: str
    version: int
    model: str
    temperature: Decimal | None
    tools: list[str]
    max_tokens: int
    max_turns: int
    prompt_sections: int
    generation: int
    parents: list[str]
    fitness: Decimal | None
    telemetry: list[TelemetryOut]


class HybridizeIn(Schema):
    parent_a: str
    parent_b: str
    seed: str


class RunOut(Schema):
    role: str
    agent: str
    mission: int
    mission_status: str
    fitness: Decimal | None
    cost_usd: Decimal


class EvaluationOut(Schema):
    id: int
    hybrid: int
    evaluation_set: str
    status: str
    note: str
    fitness: dict[str, Decimal]
    runs: list[RunOut]
    created_at: datetime
    finished_at: datetime | None


class HybridOut(Schema):
    id: int
    child: str
    child_status: str
    parent_a: str
    parent_b: str
    seed: str
    generation: int
    mutation: dict
    promoted_at: datetime | None
    created_at: datetime
    evaluations: list[EvaluationOut]


class EvaluateIn(Schema):
    hybrid: int
    evaluation_set: str = "foundry-basics"
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on each of the three missions.")


class ResultOut(Schema):
    case: int
    passed: bool
    score: Decimal
    detail: str
    output_excerpt: str


class RunDetailOut(RunOut):
    results: list[ResultOut]


class EvaluationDetailOut(EvaluationOut):
    runs: list[RunDetailOut]


class PromoteIn(Schema):
    confirm: bool = False


def _run(run, *, results: bool = False) -> dict:
    out = {"role": run.role, "agent": run.agent.slug, "mission": run.mission_id, "mission_status": run.mission.status,
           "fitness": run.fitness, "cost_usd": run.cost_usd}  # fmt: skip
    if results:
        out["results"] = [
            {"case": r.case_id, "passed": r.passed, "score": r.score, "detail": r.detail,
             "output_excerpt": r.output_excerpt}
            for r in run.results.all()
        ]  # fmt: skip
    return out


def _evaluation(evaluation: Evaluation, *, results: bool = False) -> dict:
    return {
        "id": evaluation.pk,
        "hybrid": evaluation.hybrid_id,
        "evaluation_set": evaluation.evaluation_set.slug,
        "status": evaluation.status,
        "note": evaluation.note,
        "fitness": evaluation.fitness,
        # Prefetched by the selectors (hybrid_detail, hybrid_list, evaluation_detail): no query per evaluation.
        "runs": [_run(r, results=results) for r in evaluation.runs.all()],
        "created_at": evaluation.created_at,
        "finished_at": evaluation.finished_at,
    }


def _hybrid(hybrid: Hybrid) -> dict:
    return {
        "id": hybrid.pk,
        "child": hybrid.child.slug,
        "child_status": hybrid.child.status,
        "parent_a": hybrid.parent_a.slug,
        "parent_b": hybrid.parent_b.slug,
        "seed": hybrid.seed,
        "generation": hybrid.generation,
        "mutation": hybrid.mutation,
        "promoted_at": hybrid.promoted_at,
        "created_at": hybrid.created_at,
        "evaluations": [_evaluation(e) for e in hybrid.evaluations.all()],
    }


@router.post("/ingest", response={201: TelemetryOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
             summary="Ingest external telemetry")  # fmt: skip
def ingest(request: HttpRequest, payload: TelemetryIn):
    """Record an agent's telemetry from an external system (its own missions' telemetry is ingested when they
    end). The same source replaces its previous values."""
    telemetry = services.telemetry_ingest(
        agent_slug=payload.agent, source=payload.source, success_rate=payload.success_rate,
        mean_cost_usd=payload.mean_cost_usd, mean_latency_ms=payload.mean_latency_ms,
        eval_score=payload.eval_score, sample_size=payload.sample_size,
    )  # fmt: skip
    return Status(201, telemetry)


@router.get("/traits", response={200: list[TraitsOut], **AUTH_ERRORS}, summary="Traits catalogue")
def traits(request: HttpRequest):
    """Return every agent that is not retired with its traits, generation, parents, fitness and telemetry."""
    return selectors.traits_catalogue()


@router.post("/hybridize", response={200: HybridOut, 201: HybridOut, 404: ErrorOut, 422: ErrorOut, **AUTH_ERRORS},
             summary="Breed a hybrid")  # fmt: skip
def hybridize(request: HttpRequest, payload: HybridizeIn):
    """Breed a draft child of two agents; the same parents and seed return the same child (200 instead of 201)."""
    hybrid, created = services.hybrid_breed(parent_a=payload.parent_a, parent_b=payload.parent_b,
                                            seed=payload.seed, via=_via(request))  # fmt: skip
    return Status(201 if created else 200, _hybrid(selectors.hybrid_detail(hybrid_id=hybrid.pk)))


@router.get("/hybrids", response={200: list[HybridOut], **AUTH_ERRORS}, summary="List hybrids")
def hybrids(request: HttpRequest):
    """Return hybrids, newest first, with parents, generation, mutation record and evaluations."""
    return [_hybrid(h) for h in selectors.hybrid_list()]


@router.post("/evaluations", response={201: EvaluationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
                                       **AUTH_ERRORS}, summary="Evaluate a hybrid against its parents")  # fmt: skip
def evaluate(request: HttpRequest, payload: EvaluateIn):
    """Start three ``evaluate`` missions (the child and both parents) on one evaluation set, under the budget."""
    hybrid = Hybrid.objects.select_related("child", "parent_a", "parent_b").filter(pk=payload.hybrid).first()
    if hybrid is None:
        raise ApiError(404, "unknown_hybrid", f"No hybrid has the id {payload.hybrid}; GET /api/foundry/hybrids.")
    evaluation = services.evaluation_start(hybrid=hybrid, set_slug=payload.evaluation_set, via=_via(request),
                                           budget_usd=payload.budget_usd)  # fmt: skip
    return Status(201, _evaluation(selectors.evaluation_detail(evaluation_id=evaluation.pk)))


@router.get("/evaluations/{evaluation_id}", response={200: EvaluationDetailOut, 404: ErrorOut, **AUTH_ERRORS},
            summary="One evaluation with per-case results")  # fmt: skip
def evaluation(request: HttpRequest, evaluation_id: int):
    found = selectors.evaluation_detail(evaluation_id=evaluation_id)
    if found is None:
        raise ApiError(404, "unknown_evaluation", f"No evaluation has the id {evaluation_id}.")
    return _evaluation(found, results=True)


@router.post("/hybrids/{hybrid_id}/promote", response={200: HybridOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
                                                       **AUTH_ERRORS}, summary="Promote a hybrid")  # fmt: skip
def promote(request: HttpRequest, hybrid_id: int, payload: PromoteIn):
    """Make the child active; needs ``{"confirm": true}`` and a complete evaluation where it beats both parents."""
    hybrid = Hybrid.objects.select_related("child", "parent_a", "parent_b").filter(pk=hybrid_id).first()
    if hybrid is None:
        raise ApiError(404, "unknown_hybrid", f"No hybrid has the id {hybrid_id}.")
    hybrid = services.hybrid_promote(hybrid=hybrid, confirm=payload.confirm)
    return _hybrid(selectors.hybrid_detail(hybrid_id=hybrid.pk))
