"""/foundry (public registry and lineage SVG), the operator's foundry console, and the evaluation-set admin."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from agents.foundry.models import EvaluationSet, Hybrid
from agents.foundry.services import hybrid_breed
from agents.models import Agent, Mission

pytestmark = pytest.mark.django_db


def test_the_public_page_has_an_honest_empty_lineage(client):
    response = client.get("/foundry")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No agent has been bred yet" in html and "<svg" not in html
    assert "orchestrator" in html  # the registry lists agents


def test_the_public_page_draws_the_lineage(client):
    first, _ = hybrid_breed(parent_a="orchestrator", parent_b="analyst", seed="p1")
    second, _ = hybrid_breed(parent_a=first.child.slug, parent_b="watcher", seed="p2")
    html = client.get("/foundry").content.decode()
    assert '<svg class="lineage" role="img"' in html and '<title id="lineage-title">' in html
    assert html.count('class="edge"') == 4
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    ElementTree.fromstring(svg)  # noqa: S314  (well-formed XML; our own page, not untrusted input)
    assert f"analyst → {first.child.slug}" in html and f"{first.child.slug} → {second.child.slug}" in html
    assert f"<strong>{second.child.slug}</strong> — generation 2, draft" in html
    assert "/foundry" in client.get("/sitemap.xml").content.decode()


def test_an_operator_breeds_evaluates_and_is_asked_to_confirm(client, olivia, django_capture_on_commit_callbacks):
    client.force_login(olivia)
    response = client.post("/console/foundry/", {"parent_a": "orchestrator", "parent_b": "analyst", "seed": "c1"})
    assert response.status_code == 302
    hybrid = Hybrid.objects.get()
    page = client.get("/console/foundry/").content.decode()
    assert hybrid.child.slug in page and "not evaluated" in page
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/console/foundry/hybrids/{hybrid.pk}/evaluate", {"evaluation_set": "foundry-basics"})
    assert response.status_code == 302 and Mission.objects.filter(kind="evaluate").count() == 3
    partial = client.get("/console/foundry/", headers={"HX-Request": "true"}).content.decode()
    assert partial.strip().startswith('<section id="hybrids"') and 'hx-trigger="every 5s"' in partial
    assert "<html" not in partial and "running" in partial
    confirm = client.get(f"/console/foundry/hybrids/{hybrid.pk}/promote")
    assert confirm.status_code == 200 and "running" in confirm.content.decode()
    refused = client.post(f"/console/foundry/hybrids/{hybrid.pk}/promote", {})
    assert "Tick the box" in refused.content.decode()
    refused = client.post(f"/console/foundry/hybrids/{hybrid.pk}/promote", {"confirm": "on"})
    assert "latest evaluation is running" in refused.content.decode()
    assert Agent.objects.get(pk=hybrid.child_id).status == Agent.Status.DRAFT


def test_the_breed_form_refuses_the_same_parent_twice(client, olivia):
    client.force_login(olivia)
    response = client.post("/console/foundry/", {"parent_a": "analyst", "parent_b": "analyst", "seed": "x"})
    assert response.status_code == 200 and "two different agents" in response.content.decode()
    assert not Hybrid.objects.exists()


def test_the_console_is_for_operators(client, alice):
    client.force_login(alice)
    assert client.get("/console/foundry/").status_code in (302, 403)


def test_the_admin_rejects_an_invalid_check_with_a_field_error(admin_client):
    data = {
        "slug": "bad-set", "name": "Bad set", "description": "",
        "cases-TOTAL_FORMS": "1", "cases-INITIAL_FORMS": "0", "cases-MIN_NUM_FORMS": "0", "cases-MAX_NUM_FORMS": "1000",
        "cases-0-position": "1", "cases-0-prompt": "Say hi", "cases-0-check_kind": "regex",
        "cases-0-check_spec": '{"pattern": "("}',
    }  # fmt: skip
    response = admin_client.post("/admin/agents/evaluationset/add/", data)
    assert response.status_code == 200
    assert "does not compile" in response.content.decode()
    assert not EvaluationSet.objects.filter(slug="bad-set").exists()
    data["cases-0-check_spec"] = '{"pattern": "hi"}'
    assert admin_client.post("/admin/agents/evaluationset/add/", data).status_code == 302
    assert EvaluationSet.objects.get(slug="bad-set").cases.get().check_spec == {"pattern": "hi"}
