"""LLM mutation: with DREAMNET_FOUNDRY_MUTATION_PROMPT set and a real provider, a new child's prompt sections are
rewritten by a budgeted `mutate` mission; offline, the deterministic mutation is the whole mutation."""

from __future__ import annotations

import json

import pytest

from agents.errors import AgentsError
from agents.foundry.breeding import prompt_sections
from agents.foundry.services import evaluation_start, hybrid_breed
from agents.models import Agent, LlmCall, Mission
from agents.services import mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db


def test_offline_there_is_no_mutate_mission(settings):
    settings.FOUNDRY_MUTATION_PROMPT = "Make every section more concise."
    hybrid, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="off")
    assert not Mission.objects.filter(kind="mutate").exists() and "llm" not in hybrid.mutation


def test_a_real_model_rewrites_the_sections(settings, fake_openai, django_capture_on_commit_callbacks):
    settings.FOUNDRY_MUTATION_PROMPT = "Make every section more concise."

    def script(body, number):
        sections = json.loads(body["messages"][1]["content"])
        assert body["messages"][0]["content"].startswith("[foundry.mutate]")
        return 200, completion(content=json.dumps([f"Briefly: {s}" for s in sections])), {}

    fake_openai.script = script
    with django_capture_on_commit_callbacks(execute=False):
        hybrid, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="llm")
    mission = Mission.objects.get(kind="mutate")
    assert mission.agent == hybrid.child and hybrid.mutation["llm"]["mission"] == mission.pk
    bred = prompt_sections(hybrid.child.system_prompt)
    with pytest.raises(AgentsError) as refused:
        evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    assert refused.value.code == "mutation_pending"
    mission = mission_run(mission_id=mission.pk)
    assert mission.status == "succeeded" and LlmCall.objects.filter(mission=mission).count() == 1
    child = Agent.objects.get(pk=hybrid.child_id)
    assert prompt_sections(child.system_prompt) == [f"Briefly: {s}" for s in bred]
    hybrid.refresh_from_db()
    assert hybrid.mutation["llm"]["sections"] == len(bred)
    with django_capture_on_commit_callbacks(execute=False):
        assert evaluation_start(hybrid=hybrid, set_slug="foundry-basics").runs.count() == 3


def test_a_malformed_reply_leaves_the_bred_prompt(settings, fake_openai, django_capture_on_commit_callbacks):
    settings.FOUNDRY_MUTATION_PROMPT = "Rewrite."
    fake_openai.script = lambda body, number: (200, completion(content="Sure! Here you go."), {})
    with django_capture_on_commit_callbacks(execute=False):
        hybrid, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="bad")
    mission = mission_run(mission_id=Mission.objects.get(kind="mutate").pk)
    assert mission.status == "failed" and "JSON array" in mission.error
    assert Agent.objects.get(pk=hybrid.child_id).system_prompt == hybrid.child.system_prompt


def test_the_console_shows_a_refused_rewrite(settings, client, olivia):
    settings.FOUNDRY_MUTATION_PROMPT = "Rewrite."
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    settings.LLM_MODEL = "no-such-priced-model"
    hybrid, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="refused")
    assert "no price" in hybrid.mutation["llm"]["refused"] and not Mission.objects.exists()
    client.force_login(olivia)
    assert "LLM rewrite refused" in client.get("/console/foundry/").content.decode()
