"""Races settled in the database (PostgreSQL): the same breeding request at once gives one child; the three
evaluate missions ending at once settle their evaluation once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from agents.foundry.collect import evaluation_collect
from agents.foundry.models import Evaluation, Hybrid
from agents.foundry.services import evaluation_start, hybrid_breed
from agents.llm.offline import OfflineProvider
from agents.models import Agent, Mission

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"),
]


@pytest.fixture
def basics(seeded):
    """Seed the starter evaluation set again (transaction=True tests flush what the migration seeded)."""
    from django.apps import apps

    from agents.foundry.seed import seed_basics

    seed_basics(apps, None)


def _together(target, count):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_the_same_breeding_at_once_gives_one_child(seeded):
    agents_before = Agent.objects.count()
    results, errors = _together(lambda: hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="race"), 4)
    assert not errors
    assert len({hybrid.pk for hybrid, _created in results}) == 1
    assert sum(created for _hybrid, created in results) == 1
    assert Hybrid.objects.count() == 1 and Agent.objects.count() == agents_before + 1


def test_three_runs_ending_at_once_settle_the_evaluation_once(basics, monkeypatch):
    from agents.services import mission_run

    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: None)
    hybrid, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="race-eval")
    evaluation = evaluation_start(hybrid=hybrid, set_slug="foundry-basics")
    missions = list(Mission.objects.filter(evaluation_run__evaluation=evaluation))
    for mission in missions:
        mission_run(mission_id=mission.pk, provider=OfflineProvider())
    # Collection already ran after each commit; reset it and race the three collections.
    evaluation.runs.update(collected_at=None, fitness=None)
    Evaluation.objects.filter(pk=evaluation.pk).update(status="running", fitness={}, finished_at=None)
    from agents.foundry.models import EvaluationResult

    EvaluationResult.objects.filter(run__evaluation=evaluation).delete()
    ids = iter([m.pk for m in missions])
    lock = threading.Lock()

    def collect():
        with lock:
            mission_id = next(ids)
        return evaluation_collect(mission=Mission.objects.get(pk=mission_id))

    _results, errors = _together(collect, 3)
    assert not errors
    evaluation.refresh_from_db()
    assert evaluation.status == "complete" and len(evaluation.fitness) == 3
    assert EvaluationResult.objects.filter(run__evaluation=evaluation).count() == 15
