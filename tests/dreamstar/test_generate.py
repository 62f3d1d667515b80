"""Generation: retrieves ingested chunks, writes with the agent's model, keeps only citations of those chunks."""

from __future__ import annotations

import re

import pytest

from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration
from agents.dreamstar.services import dreamstar_generate_request
from agents.errors import AgentsError
from agents.llm.offline import OfflineProvider
from agents.models import LlmCall, Mission
from agents.services import mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def _generate(prompt: str, fmt: str = "summary", provider=None, capture=None) -> Mission:
    with capture(execute=False):
        mission = dreamstar_generate_request(prompt=prompt, fmt=fmt)
    return mission_run(mission_id=mission.pk, provider=provider)


def test_offline_generation_cites_only_ingested_chunks(ingested, django_capture_on_commit_callbacks):
    mission = _generate("How is the vault insured and stored?", provider=OfflineProvider(),
                        capture=django_capture_on_commit_callbacks)  # fmt: skip
    assert mission.status == "succeeded", mission.error
    generation = DreamstarGeneration.objects.get(mission=mission)
    assert generation.text.startswith("[offline provider] Summary")
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", generation.text)}
    assert numbers and numbers <= set(range(1, len(generation.sources) + 1))
    ingested_ids = set(DreamstarChunk.objects.values_list("id", flat=True))
    assert generation.citations and set(generation.citations) <= set(generation.sources) <= ingested_ids
    insurance = DreamstarChunk.objects.get(heading="Insurance")
    assert generation.sources[0] == insurance.pk and insurance.pk in generation.citations
    assert generation.dropped == [] and generation.artifact is not None
    assert mission.output["generation"] == generation.pk and "Sources:" in mission.output["text"]
    system = LlmCall.objects.get(mission=mission).request["messages"][0]["content"]
    assert system.splitlines()[0] == "[dreamstar.generate]"


def test_a_bogus_citation_from_the_model_is_dropped(ingested, fake_openai, django_capture_on_commit_callbacks):
    fake_openai.script = lambda body, n: (
        200, completion(content="Lloyd's insures the vault [1]. Bars ship in two hours [9]. Segregated bays [2]."), {}
    )  # fmt: skip
    mission = _generate("vault insurance", fmt="article", capture=django_capture_on_commit_callbacks)
    assert mission.status == "succeeded", mission.error
    generation = mission.dreamstar_generation
    assert generation.dropped == [9] and "[9]" not in generation.text
    assert generation.text == "Lloyd's insures the vault [1]. Bars ship in two hours. Segregated bays [2]."
    assert generation.citations == generation.sources[:2]
    sent = fake_openai.requests[0]["messages"]
    assert sent[0]["content"].startswith("[dreamstar.generate]") and "[1] chunk " in sent[1]["content"]


def test_it_refuses_bad_briefs(ingested):
    for prompt, fmt, code in [("", "summary", "prompt_required"), ("x", "haiku", "unknown_format")]:
        with pytest.raises(AgentsError) as refused:
            dreamstar_generate_request(prompt=prompt, fmt=fmt)
        assert refused.value.code == code
    assert not Mission.objects.filter(kind="generate").exists()


def test_it_refuses_to_generate_before_anything_is_ingested():
    with pytest.raises(AgentsError) as refused:
        dreamstar_generate_request(prompt="Summarise our terms", fmt="summary")
    assert (refused.value.code, refused.value.status) == ("nothing_ingested", 409)


def test_a_brief_no_chunk_matches_fails_without_a_model_call(ingested, django_capture_on_commit_callbacks):
    mission = _generate(
        "quantum chromodynamics", provider=OfflineProvider(), capture=django_capture_on_commit_callbacks
    )
    assert mission.status == "failed" and "No ingested chunk matches" in mission.error
    assert not LlmCall.objects.filter(mission=mission).exists() and not DreamstarGeneration.objects.exists()


def test_a_resumed_generation_reuses_the_recorded_call_and_its_sources(ingested, django_capture_on_commit_callbacks):
    from django.utils import timezone

    class MustNotBeCalled(OfflineProvider):
        def complete(self, request):
            raise AssertionError("a recorded call was made again")

    with django_capture_on_commit_callbacks(execute=False):
        mission = dreamstar_generate_request(prompt="vault insurance", fmt="summary")
    first = mission_run(mission_id=mission.pk, provider=OfflineProvider())
    sources = first.dreamstar_generation.sources
    # Reopen the mission as if the worker had died after the model call, before storing the generation, and
    # ingest a chunk that would now rank first.
    DreamstarGeneration.objects.filter(mission=mission).delete()
    Mission.objects.filter(pk=mission.pk).update(status="running", finished_at=None, lease_until=timezone.now())
    mission.steps.all().delete()
    DreamstarChunk.objects.create(ingestion=DreamstarChunk.objects.first().ingestion, ordinal=99,
                                  heading="Vault insurance", text="Vault insurance vault insurance.", blake3="0" * 64,
                                  start=0, end=10)  # fmt: skip
    resumed = mission_run(mission_id=mission.pk, provider=MustNotBeCalled())
    assert resumed.status == "succeeded", resumed.error
    assert LlmCall.objects.filter(mission=mission).count() == 1  # the cassette answered; no second call
    assert resumed.dreamstar_generation.sources == sources  # the new, better-matching chunk was not slipped in
