"""The offline provider: deterministic, rule-based, free, and labelled in everything it writes.

Pure module: imports nothing from Django. It reads the structured conversation (the user's prompt, the tools
offered, the tool results so far) and either asks for the next tool its rules call for or writes a final
answer from the tool results. The same request always gives the same response, so missions run offline are
reproducible and tests need no network.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from agents.dreamstar.compose import TAG as DREAMSTAR_TAG
from agents.dreamstar.compose import offline_answer as dreamstar_offline_answer
from agents.llm.base import LlmRequest, LlmResponse, ToolCall, Usage, canonical

NAME = "offline"
MODEL = "offline"
LABEL = "[offline provider]"
FOOTER = "Written by DreamNet's offline rule-based provider; no language model was called."
METALS = ("gold", "silver", "platinum", "palladium")
_CATALOG_WORDS = ("catalog", "product", "products", "bar", "bars", "coin", "coins", "buy", "stock", "sku")
_VERIFY = re.compile(r"\b(?:verify|proof|receipt|entry|index)\b\D{0,20}?(\d{1,12})\b")


class OfflineProvider:
    name = NAME

    def complete(self, request: LlmRequest) -> LlmResponse:
        # DreamStar generation: the tag line opens the system message; write from its numbered sources only.
        system = _first(request.messages, "system")
        if system.startswith(DREAMSTAR_TAG):
            content = dreamstar_offline_answer(system, _first(request.messages, "user"))
            return self._response(request, content, [], "stop")
        prompt = _first(request.messages, "user")
        offered = {tool["function"]["name"] for tool in request.tools}
        called = {call["function"]["name"] for m in request.messages for call in m.get("tool_calls") or []}
        for name, arguments in plan(prompt, offered):
            if name not in called:
                call = ToolCall(_call_id(request, name, arguments), name, arguments)
                return self._response(request, "", [call], "tool_calls")
        return self._response(request, answer(prompt, _tool_results(request.messages)), [], "stop")

    def _response(self, request: LlmRequest, content: str, calls: list[ToolCall], finish: str) -> LlmResponse:
        prompt_words = sum(len(str(m.get("content") or "").split()) for m in request.messages)
        output_words = len(content.split()) + sum(len(canonical(c.arguments).split()) for c in calls)
        usage = Usage(input_tokens=prompt_words, output_tokens=min(output_words, request.max_tokens))
        return LlmResponse(NAME, MODEL, content, calls, usage, finish)


def _call_id(request: LlmRequest, name: str, arguments: dict[str, Any]) -> str:
    seed = f"{len(request.messages)}:{name}:{canonical(arguments)}"
    return "call_" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def _first(messages: list[dict[str, Any]], role: str) -> str:
    return next((str(m.get("content") or "") for m in messages if m.get("role") == role), "")


def _tool_results(messages: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    names = {call["id"]: call["function"]["name"] for m in messages for call in m.get("tool_calls") or []}
    results = []
    for message in messages:
        if message.get("role") == "tool":
            try:
                value = json.loads(message.get("content") or "null")
            except ValueError:
                value = message.get("content")
            results.append((names.get(message.get("tool_call_id"), "tool"), value))
    return results


def plan(prompt: str, offered: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Return the tool calls the rules ask for, in order, given the prompt and the tools on offer."""
    text = prompt.lower()
    words = set(re.findall(r"[a-z0-9]+", text))
    metals = [m for m in METALS if m in words]
    calls: list[tuple[str, dict[str, Any]]] = []
    if "spot_prices" in offered and (metals or {"spot", "price", "prices", "market"} & words):
        calls.append(("spot_prices", {"metals": metals or list(METALS)}))
    if "catalog_search" in offered and words & set(_CATALOG_WORDS):
        forms = [form for form in ("bar", "coin", "round") if form in words or f"{form}s" in words]
        calls.append(("catalog_search", {"query": " ".join(metals + forms)}))
    if "mesh_verify" in offered and (match := _VERIFY.search(text)):
        calls.append(("mesh_verify", {"index": int(match.group(1))}))
    return calls


def answer(prompt: str, results: list[tuple[str, Any]]) -> str:
    """Write the final answer from the tool results, deterministically, with the offline label and footer."""
    brief = "market-intelligence brief" in prompt.lower()
    title = "Market brief" if brief else "Answer"
    lines = [f"{LABEL} {title}", "", f"Request: {_clip(prompt, 300)}", ""]
    if not results:
        lines.append("No tool results were needed or available; the offline provider answers only from tools.")
    for name, value in results:
        lines.extend(_summarise(name, value))
    lines += ["", FOOTER]
    return "\n".join(lines)


def _summarise(name: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"- {name}: {_clip(canonical(value), 300)}"]
    if value.get("available") is False or value.get("error"):
        return [f"- {name}: {value.get('error') or 'not available'}"]
    if name == "spot_prices":
        rows = value.get("prices") or []
        return [f"- Spot prices ({len(rows)}):"] + [f"  - {_row(row)}" for row in rows[:10]]
    if name == "catalog_search":
        rows = value.get("items") or []
        return [f"- Catalog matches for {value.get('query', '')!r} ({len(rows)}):"] + [
            f"  - {_row(row)}" for row in rows[:10]
        ]
    if name == "mesh_verify":
        if value.get("valid"):
            return [f"- Log entry {value.get('index')} is proven in the signed log of size {value.get('size')}."]
        return [f"- Log entry {value.get('index')} could not be proven: {value.get('reason', 'unknown reason')}"]
    return [f"- {name}: {_clip(canonical(value), 300)}"]


def _row(row: Any) -> str:
    if isinstance(row, dict):
        return ", ".join(f"{k}={row[k]}" for k in sorted(row))
    return str(row)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
