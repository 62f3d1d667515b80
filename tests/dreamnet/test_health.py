"""/api/health runs real probes; a failing required probe answers 503."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_each_probe_with_latency(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    probes = {p["name"]: p for p in body["probes"]}
    assert {"database", "channel_layer", "task_cluster", "disk"} <= probes.keys()
    assert probes["database"]["ok"]
    assert probes["channel_layer"]["ok"]
    assert probes["disk"]["ok"]
    assert all(p["latency_ms"] >= 0 for p in probes.values())
    # No cluster runs under the test suite: optional probe fails, node is degraded but serving.
    assert probes["task_cluster"]["ok"] is False
    assert "qcluster" in probes["task_cluster"]["detail"]
    assert body["status"] == "degraded"


def test_a_failing_required_probe_makes_the_node_down(client, settings):
    settings.HEALTH_MIN_FREE_MB = 10**12
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    disk = next(p for p in body["probes"] if p["name"] == "disk")
    assert disk["ok"] is False
    assert "below the 1000000000000 MB minimum" in disk["detail"]


def test_the_status_page_renders_the_snapshot_without_javascript(client):
    response = client.get("/status")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-probe="database"' in page
    assert "channel_layer" in page


def test_the_status_page_serves_its_partial_to_htmx(client):
    response = client.get("/status", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="health"')
    assert "<html" not in page


def test_the_status_page_says_when_the_node_is_down(client, settings):
    settings.HEALTH_MIN_FREE_MB = 10**12
    response = client.get("/status")
    assert response.status_code == 503
    assert "below the 1000000000000 MB minimum" in response.content.decode()
