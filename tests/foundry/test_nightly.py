"""The nightly evolution run: breeds the configured number of hybrids of the two fittest active agents and
evaluates them within its share of the month's budget."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django_q.models import Schedule

from agents.budget import budget_for_month
from agents.foundry.models import Evaluation, Hybrid
from agents.foundry.services import NIGHTLY_VIA, evolution_nightly, telemetry_ingest
from agents.foundry.tasks import NIGHTLY_SCHEDULE
from agents.models import Budget, Mission

pytestmark = pytest.mark.django_db


def test_it_is_off_by_default(settings):
    settings.FOUNDRY_NIGHTLY_HYBRIDS = 0
    report = evolution_nightly(today=date(2026, 11, 22))
    assert report["bred"] == [] and "off" in report["stopped"]
    assert not Hybrid.objects.exists()


def test_it_breeds_and_evaluates_the_fittest_pair(settings, django_capture_on_commit_callbacks):
    settings.FOUNDRY_NIGHTLY_HYBRIDS = 2
    telemetry_ingest(agent_slug="watcher", source="ext", eval_score=Decimal("0.9"))
    with django_capture_on_commit_callbacks(execute=False):
        report = evolution_nightly(today=date(2026, 11, 22))
    assert len(report["bred"]) == 2 and report["stopped"] == ""
    hybrids = Hybrid.objects.order_by("seed")
    assert [h.seed for h in hybrids] == ["nightly-2026-11-22-0", "nightly-2026-11-22-1"]
    assert Evaluation.objects.count() == 2
    assert Mission.objects.filter(created_via=NIGHTLY_VIA, kind="evaluate").count() == 6
    with django_capture_on_commit_callbacks(execute=False):
        again = evolution_nightly(today=date(2026, 11, 22))
    assert again["bred"] == [] and Hybrid.objects.count() == 2  # the same night does not breed twice


def test_it_stops_when_its_budget_share_is_used(settings, django_capture_on_commit_callbacks):
    settings.FOUNDRY_NIGHTLY_HYBRIDS = 3
    settings.FOUNDRY_BUDGET_SHARE_PCT = 1
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    Budget.objects.filter(pk=budget_for_month().pk).update(cap_usd=Decimal("0.01"))
    with django_capture_on_commit_callbacks(execute=False):
        report = evolution_nightly(today=date(2026, 11, 22))
    assert report["bred"] == [] and "Budget share used" in report["stopped"]
    assert not Evaluation.objects.exists() and not Mission.objects.exists() and not Hybrid.objects.exists()


def test_serve_setup_ensures_the_schedule():
    from django.apps import apps

    apps.get_app_config("agents").serve_setup(io.StringIO())
    schedule = Schedule.objects.get(name=NIGHTLY_SCHEDULE)
    assert schedule.func == "agents.foundry.tasks.evolution_nightly_task" and schedule.schedule_type == "D"
    assert (schedule.next_run.hour, schedule.next_run.minute) == (3, 0)
    apps.get_app_config("agents").serve_setup(io.StringIO())
    assert Schedule.objects.filter(name=NIGHTLY_SCHEDULE).count() == 1


def test_the_nightly_task_collects_runs_whose_collection_was_lost(hybrid, django_capture_on_commit_callbacks):
    from agents.foundry.services import evaluation_start
    from agents.foundry.tasks import evolution_nightly_task
    from agents.llm.offline import OfflineProvider
    from agents.services import mission_run

    with django_capture_on_commit_callbacks(execute=False):
        evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
        for run in evaluation.runs.all():  # after-commit hooks discarded: the collection never happens
            mission_run(mission_id=run.mission_id, provider=OfflineProvider())
    evaluation.refresh_from_db()
    assert evaluation.status == "running"
    report = evolution_nightly_task()
    evaluation.refresh_from_db()
    assert report["collected_runs"] == 3 and evaluation.status == "complete"
