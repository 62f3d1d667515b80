"""The openai provider through the official SDK against an OpenAI-compatible server in the test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.llm import LlmRequest
from agents.llm.openai_provider import OpenAIProvider
from agents.models import LlmCall, Mission
from agents.services import mission_create, mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def _request(**extra) -> LlmRequest:
    return LlmRequest(model="test-model", messages=[{"role": "user", "content": "hello"}], max_tokens=64, **extra)


def test_a_completion_returns_content_and_usage(fake_openai):
    fake_openai.script = lambda body, n: (
        200,
        completion(content="Hi.", prompt_tokens=12, completion_tokens=3, cached_tokens=4),
        {},
    )
    response = OpenAIProvider(api_key="sk-test", base_url=fake_openai.url, max_retries=0).complete(
        _request(temperature=0.2)
    )
    assert response.content == "Hi."
    assert (response.usage.input_tokens, response.usage.cached_input_tokens, response.usage.output_tokens) == (12, 4, 3)
    sent = fake_openai.requests[0]
    assert sent["model"] == "test-model"
    assert sent["max_tokens"] == 64
    assert sent["temperature"] == 0.2
    assert fake_openai.headers[0]["authorization"] == "Bearer sk-test"


def test_tool_calls_come_back_parsed(fake_openai):
    fake_openai.script = lambda body, n: (200, completion(calls=[("spot_prices", {"metals": ["gold"]})]), {})
    tools = [{"type": "function", "function": {"name": "spot_prices", "parameters": {"type": "object"}}}]
    response = OpenAIProvider(api_key="sk-test", base_url=fake_openai.url, max_retries=0).complete(
        _request(tools=tools)
    )
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("spot_prices", {"metals": ["gold"]})]
    assert fake_openai.requests[0]["tools"] == tools


def test_a_429_is_retried_then_succeeds(fake_openai):
    def script(body, n):
        if n == 1:
            return (
                429,
                {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}},
                {"retry-after-ms": "10"},
            )
        return 200, completion(content="After the retry."), {}

    fake_openai.script = script
    response = OpenAIProvider(api_key="sk-test", base_url=fake_openai.url, max_retries=2).complete(_request())
    assert response.content == "After the retry."
    assert len(fake_openai.requests) == 2
    assert fake_openai.headers[1]["x-stainless-retry-count"] == "1"


def test_a_mission_records_each_sdk_call_in_the_cassette_with_its_cost(fake_openai, tester):
    def script(body, n):
        if n == 1:
            return (
                200,
                completion(
                    calls=[("mesh_verify", {"index": 0})], prompt_tokens=1000, cached_tokens=100, completion_tokens=50
                ),
                {},
            )
        return 200, completion(content="Entry 0 is not yet checkpointed.", prompt_tokens=1200, completion_tokens=20), {}

    fake_openai.script = script
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "verify entry 0"})
    assert mission.provider == "openai"
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED)
    calls = list(LlmCall.objects.filter(mission=mission).order_by("seq"))
    assert [c.seq for c in calls] == [1, 2]
    assert calls[0].cost_usd == Decimal("0.001050")  # (900 × 1 + 100 × 0.5 + 50 × 2) / 10^6
    assert calls[1].cost_usd == Decimal("0.001240")  # (1200 × 1 + 20 × 2) / 10^6
    assert mission.cost_usd == Decimal("0.002290")
    assert calls[1].request["messages"][-1]["role"] == "tool"
    assert fake_openai.requests[1]["messages"][-1]["tool_call_id"] == "call_0"
    assert mission.output["text"] == "Entry 0 is not yet checkpointed."
    assert mission.receipt.cost_usd == Decimal("0.002290")


def test_a_provider_error_ends_the_mission_with_its_message(fake_openai, tester):
    fake_openai.script = lambda body, n: (400, {"error": {"message": "model test-model does not exist"}}, {})
    mission = mission_create(kind="task", agent_slug="tester", data={"prompt": "hello"})
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.FAILED, Mission.StopReason.ERROR)
    assert "model test-model does not exist" in mission.error
    assert LlmCall.objects.get(mission=mission).status == LlmCall.Status.ERROR
    assert mission.cost_usd == 0
