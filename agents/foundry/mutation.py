"""The ``mutate`` mission kind: a language model rewrites a freshly bred child's prompt sections.

Runs only when DREAMNET_FOUNDRY_MUTATION_PROMPT is set and a real provider is configured (hybridize launches it;
offline, the deterministic re-ordering in :mod:`agents.foundry.breeding` is the whole mutation). One LLM call
through :func:`agents.services.mission_llm_call` (budgeted, never repeated on resume). The model must reply with a
JSON array of exactly as many non-empty strings as there are sections; anything else fails the mission and
leaves the child as bred. The rewrite is applied only while the child is a draft that no evaluation has scored.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.errors import AgentsError
from agents.kinds import Forecast, Outcome, call_worst_usd, forecast_of
from agents.llm import LlmRequest, Provider
from agents.models import Agent, Mission

TAG = "[foundry.mutate]"
MAX_TOKENS = 2048
INSTRUCTION = (
    "Rewrite each section of an agent's system prompt as the instructions below ask. The user message is a JSON "
    "array of the sections. Reply with only a JSON array of the rewritten sections: the same number of non-empty "
    "strings, in the same order."
)


def clean(data: dict[str, Any]) -> dict[str, Any]:
    from agents.foundry.breeding import prompt_sections
    from agents.foundry.models import Hybrid

    hybrid = Hybrid.objects.select_related("child").filter(pk=data.get("hybrid") or 0).first()
    if hybrid is None:
        raise AgentsError(
            "A mutate mission names the hybrid whose child it rewrites.", code="unknown_hybrid", status=404
        )
    prompt = str(data.get("prompt") or settings.FOUNDRY_MUTATION_PROMPT).strip()
    if not prompt:
        raise AgentsError("No mutation prompt: set DREAMNET_FOUNDRY_MUTATION_PROMPT.", code="mutation_off")
    sections = prompt_sections(hybrid.child.system_prompt)
    if not sections:
        raise AgentsError(f"{hybrid.child.slug!r} has no prompt sections to rewrite.", code="nothing_to_mutate")
    return {"hybrid": hybrid.pk, "prompt": prompt, "sections": sections}


def request_for(*, model: str, data: dict[str, Any]) -> LlmRequest:
    return LlmRequest(
        model=model,
        messages=[
            {"role": "system", "content": f"{TAG}\n{INSTRUCTION}\n\nInstructions:\n{data['prompt']}"},
            {"role": "user", "content": json.dumps(data["sections"], ensure_ascii=False)},
        ],
        tools=[],
        max_tokens=MAX_TOKENS,
    )


def forecast(*, agent: Agent, data: dict[str, Any], model: str) -> Forecast:
    bound = request_for(model=model, data=data).prompt_token_bound()
    return forecast_of(model=model, calls=[call_worst_usd(model=model, prompt_tokens=bound, max_tokens=MAX_TOKENS)])


def parse(content: str, count: int) -> list[str] | None:
    """Return the rewritten sections, or None unless ``content`` is a JSON array of ``count`` non-empty strings."""
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or len(value) != count:
        return None
    if not all(isinstance(s, str) and s.strip() for s in value):
        return None
    return [s.strip() for s in value]


def run(*, mission: Mission, provider: Provider) -> Outcome:
    from agents.foundry.models import Hybrid
    from agents.services import mission_llm_call, mission_step_add

    data = mission.input
    started = timezone.now()
    response = mission_llm_call(
        mission=mission, provider=provider, seq=1, build=lambda model: request_for(model=model, data=data)
    )
    sections = parse(response.content, len(data["sections"]))
    if sections is None:
        return Outcome(
            Mission.Status.FAILED,
            Mission.StopReason.ERROR,
            f"The model did not reply with a JSON array of {len(data['sections'])} sections; the child keeps its "
            "bred prompt.",
            text=response.content,
        )
    with transaction.atomic():
        hybrid = Hybrid.objects.select_related("child").get(pk=data["hybrid"])
        child = Agent.objects.select_for_update().get(pk=hybrid.child_id)
        applied = child.status == Agent.Status.DRAFT and not hybrid.evaluations.exists()
        if applied:
            child.system_prompt = "\n\n".join(sections)
            child.save(update_fields=["system_prompt", "updated_at"])
            hybrid.mutation = hybrid.mutation | {"llm": {"mission": mission.pk, "sections": len(sections)}}
            hybrid.save(update_fields=["mutation"])
    if not mission.steps.filter(number=1).exists():
        mission_step_add(mission=mission, number=1, summary=f"rewrote {len(sections)} sections"
                         + ("" if applied else " (not applied: the child was already evaluated or promoted)"),
                         output={"sections": sections, "applied": applied}, started=started, progress=99,
                         llm_call_seq=1)  # fmt: skip
    return Outcome(
        Mission.Status.SUCCEEDED,
        Mission.StopReason.COMPLETED,
        text="\n\n".join(sections),
        data={"applied": applied, "sections": len(sections)},
    )
