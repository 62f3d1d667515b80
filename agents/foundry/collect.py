"""Collecting ended missions into the foundry: an evaluate mission's results and fitness into its evaluation,
and every agent's ``missions`` telemetry.

``agents.services.mission_finish`` calls :func:`mission_ended` after each mission's finish commits; this module
imports nothing from ``agents.services``, so the call points one way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from agents.foundry.models import AgentTelemetry, Evaluation, EvaluationResult, EvaluationRun
from agents.models import Agent, Mission
from mesh import publish_on_commit

ZERO = Decimal(0)
MISSIONS_SOURCE = "missions"
TELEMETRY_WINDOW = 50  # the agent's most recent finished missions that its `missions` telemetry covers
FOUR = Decimal("0.0001")


def score_quantize(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(FOUR, rounding=ROUND_HALF_UP)


def telemetry_from_missions(*, agent: Agent) -> None:
    """Recompute and store ``agent``'s ``missions`` telemetry from its last finished missions (success rate, mean
    cost, mean duration) and its latest evaluation fitness; nothing when it has finished none.

    One UPDATE once the agent's row exists (every mission after its first); the first creates it."""
    recent = list(
        Mission.objects.filter(agent=agent, status__in=Mission.TERMINAL, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("status", "cost_usd", "started_at", "finished_at")[:TELEMETRY_WINDOW]
    )
    if not recent:
        return
    n = len(recent)
    succeeded = sum(1 for m in recent if m["status"] == Mission.Status.SUCCEEDED)
    durations = [(m["finished_at"] - m["started_at"]).total_seconds() * 1000 for m in recent if m["started_at"]]
    fitness = (
        EvaluationRun.objects.filter(agent=agent, fitness__isnull=False)
        .order_by("-collected_at")
        .values_list("fitness", flat=True)
        .first()
    )
    values = {
        "success_rate": score_quantize(Decimal(succeeded) / n),
        "mean_cost_usd": (sum((m["cost_usd"] for m in recent), ZERO) / n).quantize(Decimal("0.000001")),
        "mean_latency_ms": int(sum(durations) / len(durations)) if durations else None,
        "eval_score": fitness,
        "sample_size": n,
        "recorded_at": timezone.now(),
    }
    if not AgentTelemetry.objects.filter(agent=agent, source=MISSIONS_SOURCE).update(**values):
        AgentTelemetry.objects.update_or_create(agent=agent, source=MISSIONS_SOURCE, defaults=values)


def evaluation_collect(*, mission: Mission) -> Evaluation | None:
    """Store an ended ``evaluate`` mission's per-case results and fitness in its evaluation run; when it is the
    last of the three, settle the evaluation (``complete`` with each agent's fitness, or ``failed`` naming the
    runs that did not succeed). Locks the Evaluation row, so the three runs ending at once settle it once.
    Publishes ``foundry.evaluation.finished``. Safe to call again (a collected run is skipped)."""
    run = EvaluationRun.objects.filter(mission=mission).first()
    if run is None or not mission.is_terminal:
        return None
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=run.evaluation_id)
        run = EvaluationRun.objects.select_related("agent", "mission").get(pk=run.pk)
        if run.collected_at is None:
            output = mission.output or {}
            if mission.status == Mission.Status.SUCCEEDED:
                cases = {c.pk: c for c in evaluation.evaluation_set.cases.all()}
                EvaluationResult.objects.bulk_create(
                    EvaluationResult(run=run, case=cases[r["case"]], passed=r["passed"], score=score_quantize(r["score"]),
                                     detail=r["detail"][:300], output_excerpt=r["excerpt"])
                    for r in output.get("results", []) if r["case"] in cases
                )  # fmt: skip
                run.fitness = score_quantize(output["fitness"])
            run.cost_usd = mission.cost_usd
            run.collected_at = timezone.now()
            run.save(update_fields=["fitness", "cost_usd", "collected_at"])
        runs = list(evaluation.runs.select_related("agent", "mission"))
        if evaluation.status != Evaluation.Status.RUNNING or any(r.collected_at is None for r in runs):
            return evaluation
        failed = [r for r in runs if r.fitness is None]
        if failed:
            evaluation.status = Evaluation.Status.FAILED
            evaluation.note = "; ".join(
                f"{r.agent.slug}'s mission {r.mission_id} ended {r.mission.status} ({r.mission.stop_reason}): "
                f"{r.mission.error or 'no detail'}"
                for r in failed
            )[:2000]
        else:
            evaluation.status = Evaluation.Status.COMPLETE
        evaluation.fitness = {r.agent.slug: str(r.fitness) for r in runs if r.fitness is not None}
        evaluation.finished_at = timezone.now()
        evaluation.save(update_fields=["status", "note", "fitness", "finished_at"])
        publish_on_commit(
            "foundry.evaluation.finished",
            {
                "evaluation": evaluation.pk,
                "hybrid": evaluation.hybrid_id,
                "status": evaluation.status,
                "fitness": evaluation.fitness,
            },
        )
    return evaluation


def evaluations_collect_pending() -> int:
    """Collect every ended evaluate mission whose collection did not happen (its after-commit hook failed or
    the process died in between); return how many runs were collected. Run by the nightly task."""
    pending = EvaluationRun.objects.filter(collected_at__isnull=True, mission__status__in=Mission.TERMINAL)
    count = 0
    for run in pending.select_related("mission"):
        evaluation_collect(mission=run.mission)
        count += 1
    return count


def mission_ended(*, mission: Mission) -> None:
    """After ``mission`` ended: collect it into its evaluation (evaluate missions) and refresh its agent's
    ``missions`` telemetry. Called after commit by ``agents.services.mission_finish`` with the row it stored."""
    if not mission.is_terminal:
        return
    if mission.kind == Mission.Kind.EVALUATE:
        evaluation_collect(mission=mission)
    telemetry_from_missions(agent=mission.agent)
