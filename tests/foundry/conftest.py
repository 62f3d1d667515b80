"""Foundry fixtures: an API key with the foundry scope, and a bred hybrid of two seeded active agents."""

from __future__ import annotations

import pytest

from dreamnet.apikeys import apikey_create
from tests.agents.conftest import fake_openai, seeded, test_price, tester  # noqa: F401  (fixtures)


@pytest.fixture
def foundry_headers(db):
    _key, raw = apikey_create(name="foundry-bot", scopes=["foundry"])
    return {"X-DREAMNET-KEY": raw}


@pytest.fixture
def hybrid(db):
    from agents.foundry.services import hybrid_breed

    bred, _created = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="test-seed")
    return bred


def run_evaluation(evaluation, provider, capture):
    """Run the evaluation's three missions to the end, executing the after-commit collection."""
    from agents.services import mission_run

    for run in evaluation.runs.order_by("role"):
        with capture(execute=True):
            mission_run(mission_id=run.mission_id, provider=provider)
    evaluation.refresh_from_db()
    return evaluation
