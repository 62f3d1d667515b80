"""Evaluating a hybrid: three evaluate missions (child and both parents) on the same set, per-case results and
fitness; with the offline provider and with the in-suite OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from agents.errors import AgentsError
from agents.foundry.models import Evaluation, EvaluationResult
from agents.foundry.services import evaluation_start
from agents.llm.offline import OfflineProvider
from agents.models import Agent, LlmCall, Mission
from agents.services import mission_create
from tests.agents.conftest import completion
from tests.foundry.conftest import run_evaluation

pytestmark = pytest.mark.django_db

RIGHT = {
    "17 + 25": "42",
    "symbol for gold": "Au",
    "symbol Ag": "That metal is silver.",
    "ISO 8601": "2026-11-22",
    "troy_ounces": json.dumps({"metal": "platinum", "troy_ounces": 1}),
}


def answer_by_system_prompt(child_prompt: str):
    """Script: the child answers every case right; any other agent answers 'I do not know.'."""

    def script(body, number):
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        if system == child_prompt:
            content = next(text for key, text in RIGHT.items() if key in user)
        else:
            content = "I do not know."
        return 200, completion(content=content, prompt_tokens=50, completion_tokens=10), {}

    return script


def test_offline_evaluation_scores_all_three_alike(hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    assert evaluation.runs.count() == 3
    missions = Mission.objects.filter(evaluation_run__evaluation=evaluation)
    assert {m.kind for m in missions} == {"evaluate"} and {m.agent.slug for m in missions} == {
        hybrid.child.slug, "orchestrator", "analyst"}  # fmt: skip
    evaluation = run_evaluation(evaluation, OfflineProvider(), django_capture_on_commit_callbacks)
    assert evaluation.status == Evaluation.Status.COMPLETE
    assert set(evaluation.fitness) == {hybrid.child.slug, "orchestrator", "analyst"}
    assert len(set(evaluation.fitness.values())) == 1  # the offline provider answers every agent alike
    assert EvaluationResult.objects.filter(run__evaluation=evaluation).count() == 3 * 5
    for run in evaluation.runs.all():
        assert run.mission.steps.count() == 5 and run.mission.receipt_id is not None
        assert LlmCall.objects.filter(mission=run.mission).count() == 5


def test_against_an_openai_compatible_server_the_better_child_wins(
    hybrid, fake_openai, django_capture_on_commit_callbacks
):
    fake_openai.script = answer_by_system_prompt(hybrid.child.system_prompt)
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    evaluation = run_evaluation(evaluation, None, django_capture_on_commit_callbacks)
    assert evaluation.status == Evaluation.Status.COMPLETE, evaluation.note
    assert evaluation.fitness == {hybrid.child.slug: "1.0000", "orchestrator": "0.0000", "analyst": "0.0000"}
    assert len(fake_openai.requests) == 15
    child_run = evaluation.runs.get(role="child")
    assert all(r.passed for r in child_run.results.all()) and child_run.cost_usd > 0


def test_a_stopped_mission_fails_the_evaluation_with_a_reason(hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    from agents.services import mission_cancel

    run = evaluation.runs.get(role="parent_a")
    with django_capture_on_commit_callbacks(execute=True):
        mission_cancel(mission=run.mission)
    evaluation = run_evaluation(evaluation, OfflineProvider(), django_capture_on_commit_callbacks)
    assert evaluation.status == Evaluation.Status.FAILED
    assert "cancelled" in evaluation.note and run.agent.slug in evaluation.note


def test_only_the_foundry_lets_a_draft_agent_run(hybrid):
    with pytest.raises(AgentsError) as refused:
        mission_create(kind="evaluate", agent_slug=hybrid.child.slug, data={"evaluation_set": "foundry-basics"})
    assert refused.value.code == "agent_not_active"
    mission = mission_create(kind="evaluate", agent_slug=hybrid.child.slug,
                             data={"evaluation_set": "foundry-basics"}, allow_draft=True)  # fmt: skip
    assert mission.agent.status == Agent.Status.DRAFT and len(mission.input["cases"]) == 5
    Agent.objects.filter(pk=hybrid.child_id).update(status=Agent.Status.RETIRED)
    with pytest.raises(AgentsError):
        mission_create(kind="evaluate", agent_slug=hybrid.child.slug, data={"evaluation_set": "foundry-basics"},
                       allow_draft=True)  # fmt: skip


def test_the_api_starts_and_reports_an_evaluation(client, foundry_headers, hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/foundry/evaluations", {"hybrid": hybrid.pk, "evaluation_set": "foundry-basics"},
                               content_type="application/json", headers=foundry_headers)  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "running" and {r["role"] for r in body["runs"]} == {"child", "parent_a", "parent_b"}
    evaluation = run_evaluation(Evaluation.objects.get(pk=body["id"]), OfflineProvider(),
                                django_capture_on_commit_callbacks)  # fmt: skip
    detail = client.get(f"/api/foundry/evaluations/{evaluation.pk}", headers=foundry_headers).json()
    assert detail["status"] == "complete" and all(len(r["results"]) == 5 for r in detail["runs"])
    listed = client.get("/api/foundry/hybrids", headers=foundry_headers).json()
    assert listed[0]["evaluations"][0]["status"] == "complete"


def test_the_api_refuses_an_unknown_set_and_creates_nothing(client, foundry_headers, hybrid):
    response = client.post("/api/foundry/evaluations", {"hybrid": hybrid.pk, "evaluation_set": "nope"},
                           content_type="application/json", headers=foundry_headers)  # fmt: skip
    assert response.status_code == 404 and response.json()["code"] == "unknown_evaluation_set"
    missing = client.post("/api/foundry/evaluations", {"hybrid": 999999}, content_type="application/json",
                          headers=foundry_headers)  # fmt: skip
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_hybrid"
    assert not Evaluation.objects.exists() and not Mission.objects.exists()


def test_a_refused_mission_rolls_the_whole_evaluation_back(hybrid, settings):
    from agents.budget import budget_for_month
    from agents.models import Budget

    budget = budget_for_month()
    Budget.objects.filter(pk=budget.pk).update(cap_usd=0)
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    with pytest.raises(AgentsError) as refused:
        evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    assert refused.value.code == "over_budget"
    assert not Evaluation.objects.exists() and not Mission.objects.exists()


def test_a_resumed_evaluate_mission_never_repeats_a_call(hybrid, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from agents.services import mission_run

    class DiesOnce(OfflineProvider):
        calls = 0

        def complete(self, request):
            DiesOnce.calls += 1
            if DiesOnce.calls == 3:
                raise SystemExit  # the worker dies mid-mission, before call 3 is recorded
            return super().complete(request)

    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    mission = evaluation.runs.get(role="child").mission
    with pytest.raises(SystemExit):
        mission_run(mission_id=mission.pk, provider=DiesOnce())
    assert mission.steps.count() == 2
    Mission.objects.filter(pk=mission.pk).update(lease_until=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        mission = mission_run(mission_id=mission.pk, provider=DiesOnce())
    assert mission.status == "succeeded" and DiesOnce.calls == 6  # 2 + the one that died + 3 after resuming
    assert LlmCall.objects.filter(mission=mission).count() == 5 and mission.steps.count() == 5
    assert evaluation.runs.get(role="child").results.count() == 5
