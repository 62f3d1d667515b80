"""Foundry writes: telemetry ingest, breeding, evaluation, collection of results, promotion, nightly evolution.

Refusals raise :class:`agents.errors.AgentsError` with a stable code and HTTP status; every multi-row write is
one transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from agents.budget import budget_for_month
from agents.errors import AgentsError
from agents.foundry.breeding import Genome, breed
from agents.foundry.collect import (
    MISSIONS_SOURCE,
    score_quantize,
)
from agents.foundry.models import (
    AgentTelemetry,
    Evaluation,
    EvaluationCase,
    EvaluationRun,
    EvaluationSet,
    Hybrid,
)
from agents.models import Agent, Mission
from mesh import publish_on_commit

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
NIGHTLY_VIA = "foundry:nightly"


def _agent(slug: str) -> Agent:
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise AgentsError(f"No agent has the slug {slug!r}; GET /api/foundry/traits lists them.", code="unknown_agent",
                          status=404)  # fmt: skip
    return agent


# Telemetry ----------------------------------------------------------------------------------------------


def telemetry_ingest(
    *,
    agent_slug: str,
    source: str,
    success_rate: Decimal | None = None,
    mean_cost_usd: Decimal | None = None,
    mean_latency_ms: int | None = None,
    eval_score: Decimal | None = None,
    sample_size: int = 0,
) -> AgentTelemetry:
    """Record external telemetry for an agent as source ``external:<source>`` (replacing that source's last
    values). Refuses an unknown agent, a bad source name and out-of-range values."""
    agent = _agent(agent_slug)
    name = source.strip().lower()
    if not name or len(name) > 50 or not all(c.isalnum() or c in "-_." for c in name):
        raise AgentsError("A telemetry source is 1-50 letters, digits, '-', '_' or '.'.", code="bad_source")
    for label, value in (("success_rate", success_rate), ("eval_score", eval_score)):
        if value is not None and not (value.is_finite() and 0 <= value <= 1):
            raise AgentsError(f"{label} is a fraction between 0 and 1.", code="bad_telemetry")
    if mean_cost_usd is not None and not (mean_cost_usd.is_finite() and mean_cost_usd >= 0):
        raise AgentsError("mean_cost_usd is an amount of at least 0.", code="bad_telemetry")
    if (mean_latency_ms is not None and mean_latency_ms < 0) or sample_size < 0:
        raise AgentsError("mean_latency_ms and sample_size are at least 0.", code="bad_telemetry")
    telemetry, _ = AgentTelemetry.objects.update_or_create(
        agent=agent,
        source=f"external:{name}",
        defaults={
            "success_rate": score_quantize(success_rate) if success_rate is not None else None,
            "mean_cost_usd": mean_cost_usd.quantize(Decimal("0.000001")) if mean_cost_usd is not None else None,
            "mean_latency_ms": mean_latency_ms,
            "eval_score": score_quantize(eval_score) if eval_score is not None else None,
            "sample_size": sample_size,
            "recorded_at": timezone.now(),
        },
    )
    return telemetry


# Breeding -----------------------------------------------------------------------------------------------


def _genome(agent: Agent) -> Genome:
    return Genome(
        slug=agent.slug,
        version=agent.version,
        model=agent.model,
        fallback_model=agent.fallback_model,
        temperature=float(agent.temperature) if agent.temperature is not None else None,
        tools=tuple(agent.tools),
        system_prompt=agent.system_prompt,
        max_tokens=agent.max_tokens,
        max_turns=agent.max_turns,
    )


def generation_of(agent: Agent) -> int:
    """Return the agent's generation: 0 for an agent nobody bred, else its hybrid row's."""
    return Hybrid.objects.filter(child=agent).values_list("generation", flat=True).first() or 0


def hybrid_breed(
    *, parent_a: str, parent_b: str, seed: str, by: User | None = None, via: str = "", mutate: bool = True
) -> tuple[Hybrid, bool]:
    """Breed a draft child of two agents with ``seed``; return (hybrid, created).

    The parents are taken in slug order, so (a, b) and (b, a) are the same request; the same request returns
    the existing child (the unique (parent_a, parent_b, seed) constraint settles a race). Refuses unknown
    agents (404 ``unknown_agent``), the same agent twice (``same_parent``), a retired parent and a bad seed.
    Publishes ``foundry.hybrid.created``.
    """
    seed = seed.strip()
    if not seed or len(seed) > 100:
        raise AgentsError("A seed is 1 to 100 characters (any text; the same seed gives the same child).",
                          code="bad_seed")  # fmt: skip
    first, second = _agent(parent_a.strip()), _agent(parent_b.strip())
    if first.pk == second.pk:
        raise AgentsError(f"Both parents are {first.slug!r}; a hybrid needs two different agents.", code="same_parent")
    for parent in (first, second):
        if parent.status == Agent.Status.RETIRED:
            raise AgentsError(f"Agent {parent.slug!r} is retired; breed from draft or active agents.",
                              code="parent_retired")  # fmt: skip
    a, b = sorted((first, second), key=lambda agent: agent.slug)
    existing = Hybrid.objects.filter(parent_a=a, parent_b=b, seed=seed).select_related("child").first()
    if existing is not None:
        return existing, False
    offspring = breed(_genome(a), _genome(b), seed)
    child = offspring.genome
    try:
        with transaction.atomic():
            agent = Agent.objects.create(
                slug=child.slug,
                name=f"{a.name} × {b.name} ({offspring.digest[:6]})"[:100],
                role=f"Hybrid of {a.slug} and {b.slug}: {a.role}"[:200],
                status=Agent.Status.DRAFT,
                model=child.model,
                fallback_model=child.fallback_model,
                temperature=Decimal(str(child.temperature)) if child.temperature is not None else None,
                system_prompt=child.system_prompt,
                tools=list(child.tools),
                max_tokens=child.max_tokens,
                max_turns=child.max_turns,
            )
            hybrid = Hybrid.objects.create(
                child=agent,
                parent_a=a,
                parent_b=b,
                seed=seed,
                generation=1 + max(generation_of(a), generation_of(b)),
                mutation=offspring.mutation,
                created_by=by if getattr(by, "is_authenticated", False) else None,
                created_via=via[:120],
            )
            publish_on_commit(
                "foundry.hybrid.created",
                {
                    "hybrid": hybrid.pk,
                    "child": agent.slug,
                    "parents": [a.slug, b.slug],
                    "generation": hybrid.generation,
                },
            )
    except IntegrityError:
        existing = Hybrid.objects.filter(parent_a=a, parent_b=b, seed=seed).select_related("child").first()
        if existing is None:
            raise
        return existing, False
    if mutate:
        _mutation_start(hybrid=hybrid, by=by, via=via)
    return hybrid, True


def _mutation_start(*, hybrid: Hybrid, by: User | None, via: str) -> None:
    from agents.llm import provider_name_configured
    from agents.services import mission_create

    if not settings.FOUNDRY_MUTATION_PROMPT or provider_name_configured() == "offline":
        return
    try:
        mission = mission_create(kind=Mission.Kind.MUTATE, agent_slug=hybrid.child.slug, data={"hybrid": hybrid.pk},
                                 by=by, via=via or "foundry", allow_draft=True)  # fmt: skip
    except AgentsError as exc:
        hybrid.mutation = hybrid.mutation | {"llm": {"refused": str(exc)}}
    else:
        hybrid.mutation = hybrid.mutation | {"llm": {"mission": mission.pk, "status": "queued"}}
    hybrid.save(update_fields=["mutation"])


# Evaluation sets ----------------------------------------------------------------------------------------


def evaluation_set_create(*, slug: str, name: str, cases: list[dict[str, Any]], description: str = "") -> EvaluationSet:
    """Create an evaluation set with its cases ({prompt, check_kind, check_spec}); every case is validated
    first (``invalid_check`` names the case and the problem) and nothing is written when one is bad."""
    from django.core.exceptions import ValidationError

    built = []
    for number, data in enumerate(cases, start=1):
        case = EvaluationCase(position=number, prompt=str(data.get("prompt") or ""),
                              check_kind=str(data.get("check_kind") or ""), check_spec=data.get("check_spec"))  # fmt: skip
        try:
            case.clean()
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise AgentsError(f"Case {number} is invalid ({problems}).", code="invalid_check") from exc
        built.append(case)
    if not built:
        raise AgentsError("An evaluation set needs at least one case.", code="invalid_check")
    with transaction.atomic():
        evaluation_set = EvaluationSet.objects.create(slug=slug, name=name, description=description)
        for case in built:
            case.evaluation_set = evaluation_set
        EvaluationCase.objects.bulk_create(built)
    return evaluation_set


# Evaluation ---------------------------------------------------------------------------------------------


def evaluation_start(
    *, hybrid: Hybrid, set_slug: str, by: User | None = None, via: str = "", budget_usd: Decimal | None = None
) -> Evaluation:
    """Start evaluating ``hybrid``'s child and both parents on one set: an Evaluation and three ``evaluate``
    missions (queued after commit; the draft child is allowed to run its evaluation). All or nothing: a
    refused mission (budget, unpriced model, bad set) rolls the whole evaluation back. Publishes
    ``foundry.evaluation.started`` (and each mission's own events)."""
    from agents.services import mission_create

    evaluation_set = EvaluationSet.objects.filter(slug=set_slug).first()
    if evaluation_set is None:
        raise AgentsError(f"No evaluation set has the slug {set_slug!r}.", code="unknown_evaluation_set", status=404)
    pending = Mission.objects.filter(kind=Mission.Kind.MUTATE, agent=hybrid.child).exclude(status__in=Mission.TERMINAL)
    if pending.exists():
        raise AgentsError(f"{hybrid.child.slug!r} is still being rewritten (mission {pending.first().pk}); evaluate "
                          "it when that mission ends.", code="mutation_pending", status=409)  # fmt: skip
    roles = [
        (EvaluationRun.Role.CHILD, hybrid.child),
        (EvaluationRun.Role.PARENT_A, hybrid.parent_a),
        (EvaluationRun.Role.PARENT_B, hybrid.parent_b),
    ]
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            hybrid=hybrid,
            evaluation_set=evaluation_set,
            created_by=by if getattr(by, "is_authenticated", False) else None,
            created_via=via[:120],
        )
        for role, agent in roles:
            mission = mission_create(
                kind=Mission.Kind.EVALUATE,
                agent_slug=agent.slug,
                data={"evaluation_set": evaluation_set.slug},
                by=by,
                via=via or "foundry",
                budget_usd=budget_usd,
                allow_draft=True,
            )
            EvaluationRun.objects.create(evaluation=evaluation, agent=agent, role=role, mission=mission)
        publish_on_commit(
            "foundry.evaluation.started", {"evaluation": evaluation.pk, "hybrid": hybrid.pk, "set": evaluation_set.slug}
        )
    return evaluation


# Promotion ----------------------------------------------------------------------------------------------


def hybrid_promote(*, hybrid: Hybrid, by: User | None = None, confirm: bool = False) -> Hybrid:
    """Make a hybrid's child active: only with the operator's confirmation, and only when its latest complete
    evaluation scores it strictly above both parents. Locks the child agent's row. Publishes
    ``foundry.hybrid.promoted``."""
    if not confirm:
        raise AgentsError("Promotion makes the child an active agent; confirm it (\"confirm\": true).",
                          code="confirmation_required")  # fmt: skip
    with transaction.atomic():
        child = Agent.objects.select_for_update().get(pk=hybrid.child_id)
        if child.status != Agent.Status.DRAFT:
            raise AgentsError(f"{child.slug!r} is {child.status}; only a draft child can be promoted.",
                              code="not_draft", status=409)  # fmt: skip
        evaluation = hybrid.evaluations.order_by("-created_at").first()
        if evaluation is None or evaluation.status != Evaluation.Status.COMPLETE:
            state = "has not been evaluated" if evaluation is None else f"latest evaluation is {evaluation.status}"
            raise AgentsError(f"{child.slug!r} {state}; evaluate it against its parents and wait for the result.",
                              code="evaluation_incomplete", status=409)  # fmt: skip
        verdict = promotion_verdict(hybrid=hybrid, evaluation=evaluation)
        if not verdict["better"]:
            raise AgentsError(verdict["reason"], code="not_better", status=409)
        child.status = Agent.Status.ACTIVE
        child.save(update_fields=["status", "updated_at"])
        hybrid.promoted_at = timezone.now()
        hybrid.promoted_by = by if getattr(by, "is_authenticated", False) else None
        hybrid.save(update_fields=["promoted_at", "promoted_by"])
        publish_on_commit(
            "foundry.hybrid.promoted", {"hybrid": hybrid.pk, "child": child.slug, "evaluation": evaluation.pk}
        )
    return hybrid


def promotion_verdict(*, hybrid: Hybrid, evaluation: Evaluation) -> dict[str, Any]:
    """Return ``{"better": bool, "reason": str}``: does the child's fitness beat both parents' strictly?"""
    fitness = {slug: Decimal(value) for slug, value in evaluation.fitness.items()}
    child = fitness.get(hybrid.child.slug)
    parents = [(p.slug, fitness.get(p.slug)) for p in (hybrid.parent_a, hybrid.parent_b)]
    if child is None or any(value is None for _, value in parents):
        return {"better": False, "reason": "The evaluation lacks a fitness for the child or a parent."}
    beaten = [f"{slug} {value}" for slug, value in parents if child <= value]
    if beaten:
        return {"better": False, "reason": f"{hybrid.child.slug} scored {child}, not above {', '.join(beaten)}; "
                                           "only a child better than both parents is promoted."}  # fmt: skip
    return {"better": True, "reason": f"{hybrid.child.slug} scored {child}, above both parents."}


# Nightly evolution --------------------------------------------------------------------------------------


def fittest_active(*, limit: int = 2) -> list[Agent]:
    """Return the active agents with the best fitness (latest evaluation run, else telemetry eval score, then
    success rate), best first; ties go to the slug order."""
    ranked = []
    for agent in Agent.objects.filter(status=Agent.Status.ACTIVE):
        fitness = (
            EvaluationRun.objects.filter(agent=agent, fitness__isnull=False)
            .order_by("-collected_at")
            .values_list("fitness", flat=True)
            .first()
        )
        telemetry = AgentTelemetry.objects.filter(agent=agent, source=MISSIONS_SOURCE).first()
        score = fitness if fitness is not None else (telemetry.eval_score if telemetry else None)
        success = telemetry.success_rate if telemetry and telemetry.success_rate is not None else ZERO
        ranked.append((-(score if score is not None else Decimal(-1)), -success, agent.slug, agent))
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked[:limit]]


def nightly_spend_usd(*, month_start: date) -> Decimal:
    """Return what this month's nightly evolution missions spent or may still spend (cost of ended ones,
    forecast of the rest)."""
    missions = Mission.objects.filter(created_via=NIGHTLY_VIA, created_at__date__gte=month_start)
    totals = missions.aggregate(
        spent=Sum("cost_usd", filter=Q(status__in=Mission.TERMINAL)),
        pending=Sum("forecast_usd", filter=~Q(status__in=Mission.TERMINAL)),
    )
    return (totals["spent"] or ZERO) + (totals["pending"] or ZERO)


def evolution_nightly(*, today: date | None = None) -> dict[str, Any]:
    """Breed up to DREAMNET_FOUNDRY_NIGHTLY_HYBRIDS hybrids of the two fittest active agents (seeds derived from
    the date) and evaluate each on DREAMNET_FOUNDRY_EVALUATION_SET, within DREAMNET_FOUNDRY_BUDGET_SHARE_PCT of
    the month's cap; stop at the first evaluation that would not fit the share. Returns what it did."""
    from agents.foundry import runner
    from agents.llm import provider_name_configured
    from agents.selectors import mission_forecast, model_for

    today = today or timezone.now().date()
    wanted = settings.FOUNDRY_NIGHTLY_HYBRIDS
    report: dict[str, Any] = {"date": today.isoformat(), "wanted": wanted, "bred": [], "stopped": ""}
    if wanted <= 0:
        report["stopped"] = "DREAMNET_FOUNDRY_NIGHTLY_HYBRIDS is 0 (off)."
        return report
    parents = fittest_active()
    if len(parents) < 2:
        report["stopped"] = "Fewer than two active agents to breed from."
        return report
    set_slug = settings.FOUNDRY_EVALUATION_SET
    try:
        data = runner.clean({"evaluation_set": set_slug})
    except AgentsError as exc:
        report["stopped"] = str(exc)
        return report
    budget = budget_for_month()
    share = (budget.cap_usd * settings.FOUNDRY_BUDGET_SHARE_PCT / 100).quantize(Decimal("0.000001"))
    provider = provider_name_configured()
    for number in range(wanted):
        # Breed and evaluate together: a child whose evaluation does not fit the share is rolled back with it.
        with transaction.atomic():
            hybrid, _ = hybrid_breed(parent_a=parents[0].slug, parent_b=parents[1].slug,
                                     seed=f"nightly-{today.isoformat()}-{number}", via=NIGHTLY_VIA,
                                     mutate=False)  # fmt: skip
            if hybrid.evaluations.exists():
                continue
            agents = (hybrid.child, hybrid.parent_a, hybrid.parent_b)
            forecast = sum(
                (mission_forecast(agent=a, kind=Mission.Kind.EVALUATE, data=data,
                                  model=model_for(agent=a, provider=provider)).worst_case_usd for a in agents),
                ZERO,
            )  # fmt: skip
            used = nightly_spend_usd(month_start=budget.month)
            if used + forecast > share:
                report["stopped"] = (f"Budget share used: ${used} of ${share} spent or reserved; the next "
                                     f"evaluation may cost ${forecast}.")  # fmt: skip
                transaction.set_rollback(True)
                break
            try:
                evaluation = evaluation_start(hybrid=hybrid, set_slug=set_slug, via=NIGHTLY_VIA)
            except AgentsError as exc:
                report["stopped"] = str(exc)
                transaction.set_rollback(True)
                break
        report["bred"].append({"hybrid": hybrid.pk, "child": hybrid.child.slug, "evaluation": evaluation.pk})
    return report
