"""Runner kinds: missions that run their own logic (evaluation, DreamStar, codegen) through the same governor,
cassette, steps, receipt and events as the turn loop."""

from __future__ import annotations

import sys
import types

import pytest
from django.utils import timezone

from agents.errors import AgentsError
from agents.kinds import Outcome, call_worst_usd, forecast_of
from agents.llm import LlmRequest
from agents.llm.offline import OfflineProvider
from agents.models import LlmCall, Mission
from agents.services import mission_create, mission_llm_call, mission_run, mission_step_add

pytestmark = pytest.mark.django_db


class CountingProvider(OfflineProvider):
    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request):
        self.calls += 1
        return super().complete(request)


def _request(model: str, word: str) -> LlmRequest:
    return LlmRequest(model=model, messages=[{"role": "user", "content": word}], tools=[], max_tokens=64)


def _runner(fail_after_first: list[bool]) -> types.ModuleType:
    """A runner that makes two calls and stores a step after each; it can die once after the first call."""
    module = types.ModuleType("tests_fake_runner")

    def clean(data):
        if not data.get("words"):
            raise AgentsError("Give words.", code="words_required")
        return {"words": [str(w) for w in data["words"]][:2]}

    def forecast(*, agent, data, model):
        return forecast_of(
            model=model,
            calls=[call_worst_usd(model=model, prompt_tokens=200, max_tokens=64) for _ in data["words"]],
        )

    def run(*, mission, provider):
        done = {step.number for step in mission.steps.all()}
        texts = []
        for seq, word in enumerate(mission.input["words"], start=1):
            response = mission_llm_call(
                mission=mission, provider=provider, seq=seq, build=lambda model, w=word: _request(model, w)
            )
            texts.append(response.content.splitlines()[0])
            if fail_after_first and fail_after_first[0] and seq == 1:
                fail_after_first[0] = False
                raise SystemExit  # the worker dies before the step is stored
            if seq not in done:
                mission_step_add(
                    mission=mission, number=seq, summary=f"word {word}", output={"word": word},
                    started=timezone.now(), progress=seq * 50, llm_call_seq=seq,
                )  # fmt: skip
        return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, text="\n".join(texts), data={"n": 2})

    module.clean, module.forecast, module.run = clean, forecast, run
    return module


@pytest.fixture
def fake_kind(monkeypatch):
    crash = [False]
    sys.modules["tests_fake_runner"] = _runner(crash)
    monkeypatch.setitem(__import__("agents.kinds").kinds.RUNNERS, "codegen", "tests_fake_runner")
    yield crash
    del sys.modules["tests_fake_runner"]


def test_it_runs_a_runner_kind_to_a_receipt(fake_kind, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        mission = mission_create(kind="codegen", agent_slug="orchestrator", data={"words": ["gold", "silver"]})
    provider = CountingProvider()
    mission = mission_run(mission_id=mission.pk, provider=provider)
    assert mission.status == "succeeded" and mission.stop_reason == "completed"
    assert mission.output["n"] == 2 and mission.output["text"].startswith("[offline provider]")
    assert [s.summary for s in mission.steps.order_by("number")] == ["word gold", "word silver"]
    assert mission.receipt is not None and mission.artifact is not None
    assert provider.calls == 2


def test_a_resumed_runner_never_repeats_a_call(fake_kind, django_capture_on_commit_callbacks):
    fake_kind[0] = True
    with django_capture_on_commit_callbacks(execute=False):
        mission = mission_create(kind="codegen", agent_slug="orchestrator", data={"words": ["gold", "silver"]})
    provider = CountingProvider()
    with pytest.raises(SystemExit):
        mission_run(mission_id=mission.pk, provider=provider)
    Mission.objects.filter(pk=mission.pk).update(lease_until=timezone.now())
    mission = mission_run(mission_id=mission.pk, provider=provider)
    assert mission.status == "succeeded"
    assert provider.calls == 2 and LlmCall.objects.filter(mission=mission).count() == 2


def test_it_refuses_bad_input_through_the_runner(fake_kind):
    with pytest.raises(AgentsError) as refused:
        mission_create(kind="codegen", agent_slug="orchestrator", data={})
    assert refused.value.code == "words_required"
    assert not Mission.objects.exists()


def test_a_kind_without_its_module_is_unavailable(monkeypatch):
    monkeypatch.setitem(__import__("agents.kinds").kinds.RUNNERS, "codegen", "agents.no_such_runner")
    with pytest.raises(AgentsError) as refused:
        mission_create(kind="codegen", agent_slug="orchestrator", data={"words": ["x"]})
    assert refused.value.code == "kind_unavailable"
