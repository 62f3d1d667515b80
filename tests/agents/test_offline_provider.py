"""The offline provider: deterministic, rule-based over the structured inputs, free, and labelled."""

from __future__ import annotations

from agents.engine import Turn, request_for
from agents.llm.offline import FOOTER, LABEL, OfflineProvider
from agents.tools import TOOLS

TOOLS_ALL = [tool.schema() for tool in TOOLS.values()]


def _request(prompt: str, turns: list[Turn] | None = None):
    return request_for(
        model="offline", system="sys", user=prompt, turns=turns or [], tools=TOOLS_ALL, max_tokens=200, temperature=None
    )


def test_the_same_request_gives_the_same_response():
    request = _request("What is the gold spot price, and which gold bars are in the catalog?")
    first, second = OfflineProvider().complete(request), OfflineProvider().complete(request)
    assert first == second
    assert first.tool_calls[0].name == "spot_prices"
    assert first.tool_calls[0].arguments == {"metals": ["gold"]}


def test_it_asks_for_each_tool_once_then_answers_from_the_results_with_its_label():
    provider, turns = OfflineProvider(), []
    prompt = "Gold and silver spot prices, silver coins in the catalog, and verify log entry 7."
    names = []
    for _ in range(5):
        response = provider.complete(_request(prompt, turns))
        if not response.tool_calls:
            break
        call = response.tool_calls[0]
        names.append(call.name)
        result = {"available": False, "error": f"{call.name} offline in this test"}
        turns.append(
            Turn(
                response, [{"tool_call_id": call.id, "name": call.name, "arguments": call.arguments, "result": result}]
            )
        )
    assert names == ["spot_prices", "catalog_search", "mesh_verify"]
    assert response.content.startswith(LABEL)
    assert response.content.rstrip().endswith(FOOTER)
    assert "mesh_verify offline in this test" in response.content
    assert response.provider == "offline"


def test_it_offers_no_tool_the_request_does_not_list():
    request = request_for(
        model="offline", system="", user="gold spot price", turns=[], tools=[], max_tokens=50, temperature=None
    )
    response = OfflineProvider().complete(request)
    assert response.tool_calls == []
    assert LABEL in response.content
