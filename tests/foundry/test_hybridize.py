"""POST /api/foundry/hybridize: determinism, lineage integrity and refusals that leave nothing behind."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from agents.foundry.models import Hybrid
from agents.foundry.services import generation_of, hybrid_breed
from agents.models import Agent

pytestmark = pytest.mark.django_db


def _breed(client, headers, a, b, seed):
    return client.post("/api/foundry/hybridize", {"parent_a": a, "parent_b": b, "seed": seed},
                       content_type="application/json", headers=headers)  # fmt: skip


def test_it_breeds_a_draft_child_with_lineage(client, foundry_headers):
    response = _breed(client, foundry_headers, "orchestrator", "analyst", "s1")
    assert response.status_code == 201
    body = response.json()
    assert body["parent_a"] == "analyst" and body["parent_b"] == "orchestrator"  # slug order
    assert body["generation"] == 1 and body["child_status"] == "draft"
    child = Agent.objects.get(slug=body["child"])
    assert child.status == Agent.Status.DRAFT
    assert child.model in ("", Agent.objects.get(slug="analyst").model)
    assert body["mutation"]["seed"] == "s1" and "crossover" in body["mutation"]


def test_the_same_parents_and_seed_return_the_same_child(client, foundry_headers):
    first = _breed(client, foundry_headers, "orchestrator", "analyst", "same").json()
    again = _breed(client, foundry_headers, "analyst", "orchestrator", "same")
    assert again.status_code == 200 and again.json()["child"] == first["child"]
    assert Hybrid.objects.count() == 1
    other = _breed(client, foundry_headers, "analyst", "orchestrator", "other").json()
    assert other["child"] != first["child"]


def test_generations_follow_the_parents_and_the_lineage_has_no_cycle():
    first, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="g1")
    second, _ = hybrid_breed(parent_a=first.child.slug, parent_b="watcher", seed="g2")
    third, _ = hybrid_breed(parent_a=second.child.slug, parent_b=first.child.slug, seed="g3")
    assert (first.generation, second.generation, third.generation) == (1, 2, 3)
    assert generation_of(Agent.objects.get(slug="watcher")) == 0
    # Walk every path to the roots: no agent appears twice on one path (no cycle), and each step goes strictly
    # down a generation.
    for hybrid in Hybrid.objects.all():
        paths = [[hybrid.child]]
        while paths:
            path = paths.pop()
            row = Hybrid.objects.filter(child=path[-1]).first()
            if row is None:
                assert generation_of(path[-1]) == 0
                continue
            for parent in (row.parent_a, row.parent_b):
                assert parent not in path
                assert generation_of(parent) < row.generation
                paths.append([*path, parent])


def test_the_database_refuses_a_hybrid_with_the_same_parent_twice(hybrid):
    with pytest.raises(IntegrityError), transaction.atomic():
        Hybrid.objects.create(child=Agent.objects.get(slug="watcher"), parent_a=hybrid.parent_a,
                              parent_b=hybrid.parent_a, seed="x", generation=1)  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "seed", "status", "code"),
    [
        ("orchestrator", "nobody", "s", 404, "unknown_agent"),
        ("ghost", "analyst", "s", 404, "unknown_agent"),
        ("analyst", "analyst", "s", 422, "same_parent"),
        ("analyst", "orchestrator", "  ", 422, "bad_seed"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(client, foundry_headers, a, b, seed, status, code):
    agents = Agent.objects.count()
    response = _breed(client, foundry_headers, a, b, seed)
    assert response.status_code == status and response.json()["code"] == code
    assert Agent.objects.count() == agents and not Hybrid.objects.exists()


def test_it_needs_the_foundry_scope(client):
    from dreamnet.apikeys import apikey_create

    _key, raw = apikey_create(name="other", scopes=["missions"])
    assert _breed(client, {"X-DREAMNET-KEY": raw}, "orchestrator", "analyst", "s").status_code == 403
    assert _breed(client, {}, "orchestrator", "analyst", "s").status_code == 401


def test_a_retired_parent_is_refused_with_its_code(client, foundry_headers):
    Agent.objects.filter(slug="analyst").update(status=Agent.Status.RETIRED)
    response = _breed(client, foundry_headers, "orchestrator", "analyst", "s1")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Agent 'analyst' is retired; breed from draft or active agents.",
        "code": "parent_retired",
    }
    assert not Hybrid.objects.exists()
