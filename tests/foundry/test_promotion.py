"""Promotion: the child must beat both parents on a complete evaluation, and an operator must confirm."""

from __future__ import annotations

import pytest

from agents.foundry.services import evaluation_start
from agents.llm.offline import OfflineProvider
from agents.models import Agent
from tests.foundry.conftest import run_evaluation
from tests.foundry.test_evaluation import answer_by_system_prompt

pytestmark = pytest.mark.django_db


def _promote(client, headers, hybrid, confirm=True):
    return client.post(f"/api/foundry/hybrids/{hybrid.pk}/promote", {"confirm": confirm},
                       content_type="application/json", headers=headers)  # fmt: skip


def test_a_child_better_than_both_parents_is_promoted(
    client, foundry_headers, hybrid, fake_openai, django_capture_on_commit_callbacks
):
    fake_openai.script = answer_by_system_prompt(hybrid.child.system_prompt)
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    run_evaluation(evaluation, None, django_capture_on_commit_callbacks)
    unconfirmed = _promote(client, foundry_headers, hybrid, confirm=False)
    assert unconfirmed.status_code == 422 and unconfirmed.json()["code"] == "confirmation_required"
    response = _promote(client, foundry_headers, hybrid)
    assert response.status_code == 200, response.json()
    assert response.json()["child_status"] == "active" and response.json()["promoted_at"]
    assert Agent.objects.get(pk=hybrid.child_id).status == Agent.Status.ACTIVE
    again = _promote(client, foundry_headers, hybrid)
    assert again.status_code == 409 and again.json()["code"] == "not_draft"


def test_a_tie_is_not_better(client, foundry_headers, hybrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    run_evaluation(evaluation, OfflineProvider(), django_capture_on_commit_callbacks)
    response = _promote(client, foundry_headers, hybrid)
    assert response.status_code == 409 and response.json()["code"] == "not_better"
    assert "not above" in response.json()["detail"]
    assert Agent.objects.get(pk=hybrid.child_id).status == Agent.Status.DRAFT


def test_it_needs_a_finished_evaluation(client, foundry_headers, hybrid, django_capture_on_commit_callbacks):
    response = _promote(client, foundry_headers, hybrid)
    assert response.status_code == 409 and response.json()["code"] == "evaluation_incomplete"
    with django_capture_on_commit_callbacks(execute=False):
        evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    response = _promote(client, foundry_headers, hybrid)
    assert response.status_code == 409 and "running" in response.json()["detail"]
    assert Agent.objects.get(pk=hybrid.child_id).status == Agent.Status.DRAFT
