"""The turn logic shared by a live mission run and its replay. Pure module: no Django, no database.

A mission is a conversation: the system prompt, the user's request, then one *turn* per LLM call (the model's
message and the results of the tools it asked for). Given the same finished turns, :func:`conversation`
rebuilds the same messages byte for byte, which is what lets a resumed mission continue exactly where it
stopped and a replay check every recorded request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from agents.llm.base import LlmRequest, LlmResponse, ToolCall, canonical

LOOP_REPEATS = 3
METALS = ("gold", "silver", "platinum", "palladium")


@dataclass(frozen=True)
class Turn:
    """One finished step: the model's response and each tool call's result (same order as the calls)."""

    response: LlmResponse
    tool_results: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"response": self.response.as_json(), "tool_results": self.tool_results}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        return cls(LlmResponse.from_json(data["response"]), list(data.get("tool_results") or []))


def user_prompt(kind: str, data: dict[str, Any]) -> str:
    """Return the user message a mission of ``kind`` starts from."""
    if kind == "brief":
        metals = ", ".join(data.get("metals") or METALS)
        audience = data.get("audience") or "procurement managers"
        notes = f" Notes from the operator: {data['notes']}" if data.get("notes") else ""
        return (
            f"Write a market-intelligence brief for {audience} on {metals}. Call spot_prices for the latest spot "
            f"prices and catalog_search for products on offer, then write the narrative: where prices stand, "
            f"what that means for buying now, and which catalog items fit.{notes}"
        )
    return str(data.get("prompt") or "")


def conversation(*, system: str, user: str, turns: list[Turn]) -> list[dict[str, Any]]:
    """Return the chat messages after ``turns``."""
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    for turn in turns:
        messages.append(turn.response.assistant_message())
        for result in turn.tool_results:
            messages.append(
                {"role": "tool", "tool_call_id": result["tool_call_id"], "content": canonical(result["result"])}
            )
    return messages


def request_for(
    *, model: str, system: str, user: str, turns: list[Turn], tools: list[dict[str, Any]], max_tokens: int,
    temperature: float | None,
) -> LlmRequest:  # fmt: skip
    return LlmRequest(
        model=model,
        messages=conversation(system=system, user=user, turns=turns),
        tools=tools,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def repeated_call(turns: list[Turn], response: LlmResponse) -> ToolCall | None:
    """Return the first call in ``response`` that makes some tool call with the same arguments reach
    LOOP_REPEATS times over the mission, or None."""
    seen: Counter[tuple[str, str]] = Counter(
        (call.name, canonical(call.arguments)) for turn in turns for call in turn.response.tool_calls
    )
    for call in response.tool_calls:
        key = (call.name, canonical(call.arguments))
        seen[key] += 1
        if seen[key] >= LOOP_REPEATS:
            return call
    return None


def summary_of(response: LlmResponse) -> str:
    """Return a one-line description of a turn for the step list."""
    if response.tool_calls:
        return "Called " + ", ".join(f"{c.name}({canonical(c.arguments)})" for c in response.tool_calls)[:190]
    text = " ".join(response.content.split())
    return ("Answered: " + text)[:200] if text else "Answered (empty)"
