"""The loom provider: an agent whose model is a Loom model trained on this node answers missions offline, at no
cost, labelled as a local model, recorded and replayable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.llm import LlmError, LlmRequest, provider_configured
from agents.models import Agent, LlmCall, Mission
from agents.services import mission_create, mission_replay, mission_run
from compute.loom import Config, corpus_from_bytes, train
from compute.loom.checkpoint import MEDIA_TYPE
from mesh.services import artifact_store

pytestmark = pytest.mark.django_db
TEXT = "the quick brown fox jumps over the lazy dog. " * 30


@pytest.fixture(scope="module")
def checkpoint():
    config = Config.from_dict({"dim": 16, "blocks": 1, "heads": 2, "context": 24, "batch": 8, "steps": 60, "lr": 0.01,
                               "warmup": 5, "eval_every": 30, "eval_batches": 4, "seed": 3})  # fmt: skip
    return train(corpus_from_bytes(TEXT.encode()), config)


@pytest.fixture
def bard(checkpoint, settings, tmp_path):
    settings.DREAMNET_HOME = tmp_path
    stored = artifact_store(content=checkpoint.pack(), name=f"{checkpoint.name}.loom", media_type=MEDIA_TYPE)
    return Agent.objects.create(slug="bard", name="Bard", role="Writes like its corpus.", status=Agent.Status.ACTIVE,
                                model=f"loom:{stored.blake3}", max_tokens=40, max_turns=2)  # fmt: skip


def test_an_agent_on_a_loom_model_answers_a_mission_offline_at_no_cost(bard, settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY = "openai", "sk-never-used"  # the agent's model decides
    mission = mission_create(kind="task", agent_slug="bard", data={"prompt": "the quick "})
    assert mission.provider == "loom" and mission.model == bard.model and mission.forecast_usd == 0
    mission = mission_run(mission_id=mission.pk)
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    text = mission.output["text"]
    assert text.startswith("[local Loom model loom-16x1-") and "the quick " in text
    assert "no remote model was called" in text
    call = LlmCall.objects.get(mission=mission)
    assert call.provider == "loom" and call.cost_usd == Decimal(0)
    assert call.response["usage"]["output_tokens"] == 40
    assert mission_replay(mission=mission)["matches"]


def test_the_same_request_gets_the_same_answer_and_bad_prompts_a_specific_error(bard):
    provider = provider_configured("loom")
    request = LlmRequest(model=bard.model, messages=[{"role": "user", "content": "the lazy "}], max_tokens=30)
    assert provider.complete(request).content == provider.complete(request).content
    too_long = LlmRequest(model=bard.model, messages=[{"role": "user", "content": "the fox " * 4}], max_tokens=5)
    with pytest.raises(LlmError, match="prompt_too_long"):
        provider.complete(too_long)
    with pytest.raises(LlmError, match="unknown_model"):
        provider.complete(LlmRequest(model="loom:" + "0" * 64, messages=[], max_tokens=5))
