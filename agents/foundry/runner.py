"""The ``evaluate`` mission kind: one agent answers every case of an evaluation set; each answer is scored.

Input: ``{"evaluation_set": "<slug>"}`` (``clean`` copies the set's cases, prompts and checks into the mission
input, so a later edit of the set never changes what a mission was scored on). One LLM call per case, in case
order (call ``seq`` = case number), each through :func:`agents.services.mission_llm_call` (budgeted, never
repeated on resume), and one step per case holding the verdict. The output data is ``{"results": [...],
"fitness": mean score}``; :mod:`agents.foundry.services` collects it into the evaluation when the mission ends.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from agents.errors import AgentsError
from agents.kinds import Forecast, Outcome, call_worst_usd, forecast_of
from agents.llm import LlmRequest, Provider
from agents.models import Agent, Mission

EXCERPT_CHARS = 500


def clean(data: dict[str, Any]) -> dict[str, Any]:
    from agents.foundry.models import EvaluationSet

    slug = str(data.get("evaluation_set") or "").strip()
    evaluation_set = EvaluationSet.objects.filter(slug=slug).first() if slug else None
    if evaluation_set is None:
        raise AgentsError(
            f"No evaluation set has the slug {slug!r}; the admin lists them (Agent missions › Evaluation sets).",
            code="unknown_evaluation_set",
            status=404,
        )
    cases = [
        {"id": c.pk, "prompt": c.prompt, "kind": c.check_kind, "spec": c.check_spec}
        for c in evaluation_set.cases.order_by("position", "pk")
    ]
    if not cases:
        raise AgentsError(f"Evaluation set {slug!r} has no cases; add some in the admin.", code="empty_evaluation_set")
    return {"evaluation_set": slug, "cases": cases}


def request_for(*, agent: Agent, model: str, prompt: str) -> LlmRequest:
    """Return the request that asks ``agent`` one case: its own system prompt, the case prompt, no tools."""
    messages = [{"role": "user", "content": prompt}]
    if agent.system_prompt:
        messages.insert(0, {"role": "system", "content": agent.system_prompt})
    temperature = float(agent.temperature) if agent.temperature is not None else None
    return LlmRequest(model=model, messages=messages, tools=[], max_tokens=agent.max_tokens, temperature=temperature)


def forecast(*, agent: Agent, data: dict[str, Any], model: str) -> Forecast:
    calls = [
        call_worst_usd(
            model=model,
            prompt_tokens=request_for(agent=agent, model=model, prompt=case["prompt"]).prompt_token_bound(),
            max_tokens=agent.max_tokens,
        )
        for case in data["cases"]
    ]
    return forecast_of(model=model, calls=calls)


def run(*, mission: Mission, provider: Provider) -> Outcome:
    from agents.foundry.checks import check_score
    from agents.services import mission_cancel_requested, mission_llm_call, mission_step_add

    agent = mission.agent
    cases = mission.input["cases"]
    stored = {step.number: step.output for step in mission.steps.all()}
    results: list[dict[str, Any]] = []
    for seq, case in enumerate(cases, start=1):
        if seq in stored:
            results.append(stored[seq])
            continue
        if mission_cancel_requested(mission=mission):
            return Outcome(Mission.Status.CANCELLED, Mission.StopReason.CANCELLED, "Cancelled by an operator.")
        started = timezone.now()
        response = mission_llm_call(
            mission=mission,
            provider=provider,
            seq=seq,
            build=lambda model, prompt=case["prompt"]: request_for(agent=agent, model=model, prompt=prompt),
        )
        verdict = check_score(case["kind"], case["spec"], response.content)
        result = {
            "case": case["id"],
            "passed": verdict.passed,
            "score": verdict.score,
            "detail": verdict.detail[:300],
            "excerpt": response.content[:EXCERPT_CHARS],
        }
        mission_step_add(
            mission=mission,
            number=seq,
            summary=f"case {case['id']} ({case['kind']}): {'pass' if verdict.passed else 'fail'}",
            output=result,
            started=started,
            progress=seq * 100 // len(cases),
            llm_call_seq=seq,
        )
        results.append(result)
    fitness = sum(r["score"] for r in results) / len(results)
    lines = [f"Evaluation of {agent.slug} on {mission.input['evaluation_set']}: fitness {fitness:.4f}", ""]
    lines += [f"- case {r['case']}: {'pass' if r['passed'] else 'fail'} ({r['detail']})" for r in results]
    return Outcome(
        Mission.Status.SUCCEEDED,
        Mission.StopReason.COMPLETED,
        text="\n".join(lines),
        data={"results": results, "fitness": fitness},
    )
