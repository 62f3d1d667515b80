"""Replay a mission against its cassette, with no network and no writes."""

from __future__ import annotations

from typing import Any

from agents import engine
from agents.llm import CassetteProvider, LlmError
from agents.models import LlmCall, Mission
from agents.selectors import tools_for
from agents.services.run import final_text


def mission_replay(*, mission: Mission) -> dict[str, Any]:
    """Re-run ``mission``'s turns against its cassette and its recorded tool results, with no network and no
    writes; return ``{"matches", "text", "recorded_text", "calls", "detail"}``.

    Every request the engine rebuilds must have the recorded digest (LlmError otherwise), and the final text
    must equal the stored output.
    """
    if mission.kind not in (Mission.Kind.TASK, Mission.Kind.BRIEF):
        raise LlmError(f"Replay covers task and brief missions; mission {mission.pk} is a {mission.kind} mission.")
    agent = mission.agent
    calls = list(mission.llm_calls.order_by("seq"))
    steps = {step.number: step for step in mission.steps.all()}
    cassette = CassetteProvider([(c.request_blake3, c.response) for c in calls if c.status == LlmCall.Status.OK])
    temperature = float(agent.temperature) if agent.temperature is not None else None
    turns: list[engine.Turn] = []
    detail = ""
    for call in calls:
        if call.status != LlmCall.Status.OK:
            detail = f"call {call.seq} failed when recorded: {call.error}"
            break
        request = engine.request_for(
            model=call.model,
            system=agent.system_prompt,
            user=engine.user_prompt(mission.kind, mission.input),
            turns=turns,
            tools=tools_for(agent=agent, kind=mission.kind),
            max_tokens=agent.max_tokens,
            temperature=temperature,
        )
        response = cassette.complete(request)
        step = steps.get(call.seq)
        recorded_results = step.output.get("tool_results", []) if step else []
        if engine.repeated_call(turns, response) is None and len(recorded_results) != len(response.tool_calls):
            raise LlmError(
                f"step {call.seq} recorded {len(recorded_results)} tool results for {len(response.tool_calls)} calls"
            )
        turns.append(engine.Turn(response, recorded_results))
    text = final_text(turns)
    recorded_text = (mission.output or {}).get("text", "")
    return {
        "matches": text == recorded_text,
        "text": text,
        "recorded_text": recorded_text,
        "calls": len(calls),
        "detail": detail,
    }
